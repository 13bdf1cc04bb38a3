import StepwiseExpressions
import StepwiseTesting
import Testing

@testable import StepwiseEngine

/// `SleepsAhead`, the engine's account of the sleeps it fired ahead: when to look again, what
/// counts as looked at, and the order deliveries leave it in.
@Suite("Sleeps ahead: the engine's account")
struct SleepsAheadStateTests {
    let t0: TimestampValue

    init() throws {
        t0 = try TimestampValue(parsing: "2026-03-01T12:00:00Z")
    }

    private func at(_ seconds: Double) throws -> TimestampValue { try t0.plus(seconds: seconds) }

    private func held(_ id: Int64, run: String, endingAt seconds: Double) throws -> SleepsAhead.Held {
        let end = try at(seconds)
        return SleepsAhead.Held(
            timer: PendingMessage(id: id + 1000, runId: run, kind: .timer, stepName: "nap", attempt: 0, dueAt: end),
            delivery: LeasedDelivery(message: PendingMessage(id: id, runId: run, attempt: 0, dueAt: end)))
    }

    @Test("the loop wakes a lookahead before the store's next due time only when the node may fire, and once that time was looked at, not again")
    func wakesForTheLookahead() throws {
        var sleeps = SleepsAhead()
        sleeps.storeNextDue = try at(10)
        #expect(sleeps.nextWake(lookahead: .seconds(1), mayFire: true) == (try at(9)))
        #expect(sleeps.nextWake(lookahead: .seconds(1), mayFire: false) == nil, "a busy node waits for a slot instead of spinning")
        #expect(sleeps.horizon(at: try at(8.5), lookahead: .seconds(1)) == nil, "not yet within the lookahead")
        let horizon = try #require(sleeps.horizon(at: try at(9), lookahead: .seconds(1)))
        let token = sleeps.firingBegins(through: horizon)
        #expect(sleeps.horizon(at: try at(9), lookahead: .seconds(1)) == nil, "one firing at a time")
        sleeps.firingEnded(token, lookedThrough: horizon)
        #expect(sleeps.horizon(at: try at(9.1), lookahead: .seconds(1)) == nil, "10 s was looked at")
        #expect(sleeps.nextWake(lookahead: .seconds(1), mayFire: true) == nil)
    }

    @Test("a sleep parked inside the looked-at time, or during a firing and ending by its horizon, is looked at again; one after it is not")
    func parkedSleepsReopenTheWindow() throws {
        var sleeps = SleepsAhead()
        sleeps.storeNextDue = try at(10)
        let first = try #require(sleeps.horizon(at: try at(9.5), lookahead: .seconds(1)))
        sleeps.firingEnded(sleeps.firingBegins(through: first), lookedThrough: first)
        sleeps.sleepParked(endingAt: try at(20))
        #expect(sleeps.horizon(at: try at(9.6), lookahead: .seconds(1)) == nil, "a sleep after the window changes nothing")
        sleeps.sleepParked(endingAt: try at(10.2))
        #expect(sleeps.horizon(at: try at(9.6), lookahead: .seconds(1)) != nil, "a sleep inside the window reopens it")

        let second = try #require(sleeps.horizon(at: try at(9.6), lookahead: .seconds(1)))
        let token = sleeps.firingBegins(through: second)
        sleeps.sleepParked(endingAt: try at(10.4))
        sleeps.firingEnded(token, lookedThrough: second)
        #expect(sleeps.horizon(at: try at(9.7), lookahead: .seconds(1)) != nil, "the firing may have missed the sleep parked meanwhile")
    }

    @Test("ended deliveries leave earliest first, at most as many as asked, and wait as ready until slots free; a canceled run's are removed")
    func endedReadyAndRemoved() throws {
        var sleeps = SleepsAhead()
        sleeps.hold([try held(3, run: "c", endingAt: 12), try held(1, run: "a", endingAt: 10), try held(2, run: "b", endingAt: 11)])
        #expect(sleeps.takeEnded(at: try at(9.9), limit: 10).isEmpty)
        #expect(sleeps.nextWake(lookahead: .zero, mayFire: true) == (try at(10)), "the next sleep's end")
        let ended = sleeps.takeEnded(at: try at(11), limit: 1)
        #expect(ended.map(\.delivery.message.id) == [1])
        #expect(sleeps.count == 3, "one is being checked")
        sleeps.makeReady(ended, checked: ended.count)
        #expect(sleeps.remove(runIds: ["c"]).map(\.delivery.message.id) == [3])
        #expect(sleeps.takeReady(limit: 0).isEmpty)
        #expect(sleeps.takeReady(limit: 5).map(\.delivery.message.id) == [1])
        #expect(sleeps.takeAll().map(\.delivery.message.id) == [2])
        #expect(sleeps.count == 0)
    }
}
