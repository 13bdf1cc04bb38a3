import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's message log on each store, at fixed instants: expiry deletes only what is older than
/// asked; what a created event keeps of its message.
@Suite("QStash message log on the stores")
struct MessageLogStoreTests {
    @Test("expiry deletes the events older than the given time, and keeps the rest", arguments: StoreKind.testable)
    func expiry(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let old = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/old", dueAt: try fixture.at(3_600))
            let recent = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/recent", dueAt: try fixture.at(3_600))
            _ = try await fixture.store.publish([.enqueue(old)], at: try fixture.at(0))
            _ = try await fixture.store.publish([.enqueue(recent)], at: try fixture.at(100))
            #expect(try await fixture.store.messageEvents(matching: MessageEventFilter(), before: nil, count: 10).events.count == 2)

            #expect(try await fixture.store.expireMessageEvents(before: try fixture.at(50)) == 1)
            #expect(try await fixture.store.expireMessageEvents(before: try fixture.at(50)) == 0, "nothing more that old")
            let left = try await fixture.store.messageEvents(matching: MessageEventFilter(), before: nil, count: 10).events
            #expect(left.map(\.messageId) == [recent.id])
            #expect(left.first?.state == .created)
            #expect(left.first?.message?.destination == recent.destination, "a created event keeps its message")
        }
    }

    @Test("a created event keeps the message as shown: credentials redacted, a callback's body (its source's headers) left out, bodies cut")
    func createdEventsShowNoSecrets() throws {
        let secret = ForwardedHeader("Authorization", "Bearer sk-secret")
        let notice = QueuedMessage(
            role: .failureCallback, runId: nil, destination: "http://127.0.0.1:9/failed", headers: [secret],
            body: Array(#"{"sourceHeader": {"Authorization": ["Bearer sk-secret"]}}"#.utf8), dueAt: .epoch)
        let kept = try #require(MessageEvent(.created, of: notice, at: 0).message)
        #expect(kept.body == nil)
        #expect(kept.headers == [ForwardedHeader("Authorization", "[redacted]")])
        let large = QueuedMessage(
            role: .plain, runId: nil, destination: "http://127.0.0.1:9/large", body: Array(repeating: 65, count: 100_000),
            callback: QueuedTarget(url: "http://127.0.0.1:9/cb", headers: [secret]), dueAt: .epoch)
        let shown = try #require(MessageEvent(.created, of: large, at: 0).message)
        #expect(shown.body?.count == MessageEvent.maximumBodyBytes)
        #expect(shown.callback?.headers == [ForwardedHeader("Authorization", "[redacted]")])
        #expect(MessageEvent(.delivered, of: large, at: 0).message == nil, "only a created event keeps the message")
    }

    @Test("a body cut to its limit never splits a UTF-8 character, so text stays text")
    func cutBodiesStayText() {
        let text = Array(String(repeating: "é", count: 10).utf8)  // two bytes each
        #expect(AttemptAnswer.prefix(of: text, maximum: 5) == Array("éé".utf8), "the third character's first byte is left out")
        #expect(AttemptAnswer.prefix(of: text, maximum: 6) == Array("ééé".utf8))
        #expect(AttemptAnswer.prefix(of: Array("€€".utf8), maximum: 5) == Array("€".utf8), "three-byte characters")
        #expect(AttemptAnswer.prefix(of: text, maximum: 100) == text)
    }
}
