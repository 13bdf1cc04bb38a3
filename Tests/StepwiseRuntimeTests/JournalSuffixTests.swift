import Foundation
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// A warm runner is handed only the journal entries it has not seen (`Delivery.journalBase`),
/// so a delivery's cost does not grow with the run's history; without the state it asks for the
/// whole journal instead of guessing.
@Suite("Deliveries of the journal's end")
struct JournalSuffixTests {
    static let sequential = """
        workflow: steps
        steps:
          - id: first
            notify: {event: nobody}
          - id: second
            notify: {event: nobody}
          - id: third
            notify: {event: nobody}
        output: done
        """

    @Test("a warm runner covers what it replayed and continues from the journal's end alone")
    func warmRunnerTakesTheEnd() async throws {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make(Self.sequential, transport: ScriptedTransport([:]), warm: true, clock: clock)
        var run = driver.start(input: ["x": 1], clock: clock)
        #expect(await run.deliverOnce() == nil)
        #expect(driver.runner.warmJournalCount(runId: "run-1") == 1, "the input only: nothing was replayed yet")
        #expect(await run.deliverOnce() == nil)
        #expect(driver.runner.warmJournalCount(runId: "run-1") == 2, "the input and the first step")
        // Entries 0 and 1 are left out: the runner replays the second step from the end alone.
        let outcome = await driver.runner.deliver(run.delivery(from: 2))
        guard case .submitted(let submissions) = outcome else {
            Issue.record("expected the third step, got \(outcome)")
            return
        }
        #expect(submissions.map(\.stepName) == ["third"])
    }

    @Test("a new run under the id of one that ended starts cold: the state remembered of the earlier run is not its own")
    func aReusedRunIdStartsCold() async throws {
        let clock = try VirtualClock.at()
        let workflow = Self.sequential.replacingOccurrences(of: "output: done", with: "output: \"${{ input.x }}\"")
        let driver = try await RunDriver.make(workflow, transport: ScriptedTransport([:]), warm: true, clock: clock)
        var earlier = driver.start(input: ["x": 1], clock: clock)
        #expect(await earlier.deliverOnce() == nil)
        #expect(driver.runner.warmJournalCount(runId: "run-1") == 1, "the earlier run's input, as long as the new run's journal")
        clock.advance(to: try clock.now.plus(seconds: 5))
        var later = driver.start(input: ["x": 2], clock: clock)
        var finish: RunDriver.Finish?
        for _ in 1...20 where finish == nil { finish = await later.deliverOnce() }
        #expect(finish?.output == 2, "the new run's own input")
    }

    @Test("a runner without the run's state asks for the whole journal, and finishes with it as a cold runner would")
    func coldRunnerAsksForEverything() async throws {
        let clock = try VirtualClock.at()
        let warm = try await RunDriver.make(Self.sequential, transport: ScriptedTransport([:]), warm: true, clock: clock)
        let finished = await warm.run(input: ["x": 1], clock: clock)
        let cold = try await RunDriver.make(Self.sequential, transport: ScriptedTransport([:]), warm: false, clock: clock)
        var run = cold.start(input: ["x": 1], clock: clock)
        run.journal = Array(finished.journal.prefix(3))
        #expect(await cold.runner.deliver(run.delivery(from: 2)) == .needsWholeJournal)
        guard case .submitted(let submissions) = await cold.runner.deliver(run.delivery(from: 0)) else {
            Issue.record("the whole journal must be enough")
            return
        }
        #expect(submissions.map(\.stepName) == ["third"])
        #expect(finished.status == "succeeded")
    }
}
