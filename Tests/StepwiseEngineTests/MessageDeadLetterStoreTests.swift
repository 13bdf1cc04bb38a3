import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// The DLQ of plain messages on each store, at fixed instants: the order and pages of a listing,
/// inclusive time filters, retention, and retries of entries already gone.
@Suite("QStash DLQ of plain messages on the stores")
struct MessageDeadLetterStoreTests {
    @Test("entries list newest failure first, ties by id; pages meet without gaps; time filters are inclusive", arguments: StoreKind.testable)
    func orderPagesAndTimes(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            var failed: [(id: String, at: Int64)] = []
            for (body, seconds) in [("one", 1.0), ("two", 2.0), ("tie", 2.0), ("three", 3.0)] {
                let at = try fixture.at(seconds)
                failed.append((try await fixture.failPlainMessage(body, at: at), at.millisecondsSinceEpoch))
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
            let old = try await fixture.failPlainMessage("old", at: try fixture.at(1))
            let retention = Double(MessageDeadLetter.retentionMilliseconds) / 1_000
            let recent = try await fixture.failPlainMessage("recent", at: try fixture.at(retention))
            #expect(try await fixture.store.messageDeadLetter(id: old) != nil, "not yet older than the retention")
            let newest = try await fixture.failPlainMessage("newest", at: try fixture.at(retention + 2))
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
