import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// The DLQ of plain messages on each store, at fixed instants: the order and pages of a listing,
/// inclusive time filters, retention, and retries of entries already gone.
@Suite("QStash DLQ of plain messages on the stores")
struct MessageDeadLetterStoreTests {
    /// Publishes a plain message, claims it and gives it up at `failedAt`; its DLQ id.
    private func failMessage(_ body: String, at failedAt: TimestampValue, in fixture: StoreFixture) async throws -> String {
        let message = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/\(body)", body: Array(body.utf8), retries: 0, dueAt: fixture.t0)
        _ = try await fixture.store.publish([.enqueue(message)], at: fixture.t0)
        let claimed = try await fixture.store.claimDueQueued(now: failedAt, limit: 10, owner: "node", leaseUntil: failedAt.plus(seconds: 60))
        let held = try #require(claimed.first { $0.id == message.id })
        var followUp = AttemptFollowUp()
        followUp.deadLetter = AttemptAnswer(status: 503, headers: [], body: Array("down".utf8))
        followUp.decidedAt = failedAt
        #expect(try await fixture.store.finishAttempt(held, owner: "node", with: followUp))
        return MessageDeadLetter.id(of: message.id)
    }

    @Test("entries list newest failure first, ties by id; pages meet without gaps; time filters are inclusive", arguments: StoreKind.testable)
    func orderPagesAndTimes(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            var failed: [(id: String, at: Int64)] = []
            for (body, seconds) in [("one", 1.0), ("two", 2.0), ("tie", 2.0), ("three", 3.0)] {
                let at = try fixture.at(seconds)
                failed.append((try await failMessage(body, at: at, in: fixture), at.millisecondsSinceEpoch))
            }
            let expected = failed.sorted { ($0.at, $0.id) > ($1.at, $1.id) }.map(\.id)
            var paged: [String] = []
            var cursor: PageCursor?
            repeat {
                let page = try await fixture.store.messageDeadLetters(matching: MessageDeadLetterFilter(), after: cursor, count: 1)
                paged += page.letters.map(\.id)
                cursor = page.next
            } while cursor != nil && paged.count <= failed.count
            #expect(paged == expected)

            var from = MessageDeadLetterFilter()
            from.failedFrom = try fixture.at(2).millisecondsSinceEpoch
            #expect(try await fixture.store.messageDeadLetters(matching: from, after: nil, count: 100).letters.count == 3)
            var until = MessageDeadLetterFilter()
            until.failedUntil = try fixture.at(2).millisecondsSinceEpoch
            #expect(try await fixture.store.messageDeadLetters(matching: until, after: nil, count: 100).letters.count == 3)
            let first = try #require(try await fixture.store.messageDeadLetter(id: expected[0]))
            #expect(first.failedAt == failed[3].at)
            #expect(first.response.body == Array("down".utf8))
        }
    }

    @Test("an entry older than the retention is deleted when another comes; a retry of a gone entry queues nothing", arguments: StoreKind.testable)
    func retentionAndGoneEntries(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let old = try await failMessage("old", at: try fixture.at(1), in: fixture)
            let retention = Double(MessageDeadLetter.retentionMilliseconds) / 1_000
            let recent = try await failMessage("recent", at: try fixture.at(retention), in: fixture)
            #expect(try await fixture.store.messageDeadLetter(id: old) != nil, "not yet older than the retention")
            let newest = try await failMessage("newest", at: try fixture.at(retention + 2), in: fixture)
            #expect(try await fixture.store.messageDeadLetter(id: old) == nil, "older than the retention")
            #expect(try await fixture.store.messageDeadLetter(id: recent) != nil)

            let letter = try #require(try await fixture.store.messageDeadLetter(id: newest))
            var again = letter.message
            again.id = QueuedMessage.freshId()
            #expect(try await fixture.store.retry(messageDeadLetters: [(newest, again)], at: try fixture.at(retention + 3)) == [again.id])
            var twice = again
            twice.id = QueuedMessage.freshId()
            #expect(try await fixture.store.retry(messageDeadLetters: [(newest, twice)], at: try fixture.at(retention + 4)).isEmpty)
            #expect(try await fixture.store.queuedMessage(id: twice.id) == nil, "nothing queued for a gone entry")
            #expect(try await fixture.store.queuedMessage(id: again.id) != nil)
        }
    }
}
