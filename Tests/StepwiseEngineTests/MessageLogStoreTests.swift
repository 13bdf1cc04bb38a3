@testable import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
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

    @Test("host, path and flow-control key filters take what Destination and the message say, in SQL as in Swift", arguments: StoreKind.testable)
    func hostPathAndKeyFilters(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let urls = [
                "http://127.0.0.1:9/a/b?x=1#f", "https://User:pw@Example.COM:8443/Path%20x?q", "http://[::1]:8080/v6", "https://example.com",
                "https://example.com?only=query", "http://a@b@host.test/x", "https://app.test//api//wf", "http://[fe80::1/x", "https://Example.com/a/b",
                "http://[ab]cd/x", "http://ÄBC.Example:80/p", "http://äbc.example/p", "http://host/\u{301}p?q", "http://host?\u{301}/x", "http://user@host/",
                "http://[a@b:c]/x", "http://[x@:1]/", "http://\u{E9}.test/p", "http://e\u{301}.test/p",
            ]
            var messages = urls.map { QueuedMessage(role: .plain, runId: nil, destination: $0, dueAt: .epoch) }
            messages[0].flowControl = FlowControl(StepwiseProtocol.FlowControl(key: "billing", parallelism: 2))
            messages[1].flowControl = FlowControl(StepwiseProtocol.FlowControl(key: "billing", rate: 5))
            messages[2].flowControl = NamedQueue.flowControl(of: "mail")
            messages[2].queue = "mail"
            _ = try await fixture.store.publish(messages.map { .enqueue($0) }, at: try fixture.at(0))

            // The messages a match takes, by their place in `urls` (Swift's String equality would
            // take "é" and "e\u{301}" for one): in the store's SQL, and in Swift (a bulk cancel's).
            func index(of url: String) -> Int? { urls.firstIndex { $0.unicodeScalars.elementsEqual(url.unicodeScalars) } }
            func found(_ fill: (inout MessageMatch) -> Void) async throws -> Set<Int> {
                var filter = MessageEventFilter()
                fill(&filter.match)
                let inSQL = Set(try await fixture.store.messageEvents(matching: filter, before: nil, count: 100).events.compactMap { index(of: $0.url) })
                let inSwift = Set(messages.indices.filter { filter.match.matches(messages[$0]) })
                #expect(inSQL == inSwift, "\(filter.match)")
                return inSQL
            }
            for host in urls.map(Destination.host(of:)) { _ = try await found { $0.hosts = [host] } }
            for path in urls.map(Destination.path(of:)) { _ = try await found { $0.paths = [path] } }
            #expect(try await found { $0.hosts = ["example.com"]; $0.paths = ["/"] } == [3, 4], "both hold")
            #expect(try await found { $0.hosts = ["[ab]"] } == [9], "a bracketed host ends at its bracket")
            #expect(try await found { $0.hosts = ["Äbc.example"] } == [10], "only ASCII letters compare without case")
            #expect(try await found { $0.hosts = ["b"] } == [15], "the user information ends at the authority's last @")
            #expect(try await found { $0.hosts = ["\u{E9}.test"] } == [17], "compared by code point, not canonical equivalence")
            #expect(try await found { $0.flowControlKeys = ["billing", "none"] } == [0, 1], "any of several keys")
            #expect(try await found { $0.flowControlKeys = [NamedQueue.flowKey(of: "mail")] }.isEmpty, "a queue's key is not its message's")
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

/// Rows as a store before the `flow_key` columns (SQLite v18, PostgreSQL v11) kept them, and what
/// its upgrade must make of them: a message published with a flow-control key, found by it in
/// every event; a queue's, found by none; one whose stored form escapes a NUL character (which
/// PostgreSQL's JSONB refuses); an SDK run a resume gave a key, one whose trigger's key was kept
/// with its run-level options (the JS SDK 1.x's), and a YAML run of a keyed workflow.
struct FlowKeyUpgrade {
    let keyed: QueuedMessage
    let queued: QueuedMessage
    let escaped: QueuedMessage

    init() {
        var keyed = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/keyed", dueAt: .epoch)
        keyed.flowControl = FlowControl(concurrencyKey: "k", concurrencyLimit: 1, rateKey: "k")
        var queued = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/queued", dueAt: .epoch)
        queued.flowControl = NamedQueue.flowControl(of: "mail")
        queued.queue = "mail"
        var escaped = QueuedMessage(role: .plain, runId: nil, destination: "http://127.0.0.1:9/escaped", headers: [ForwardedHeader("X-Odd", "a\u{0}b")], dueAt: .epoch)
        escaped.flowControl = FlowControl(concurrencyKey: "nul")
        (self.keyed, self.queued, self.escaped) = (keyed, queued, escaped)
    }

    /// The events an older store logged, each a message, its state and whether the row kept its
    /// stored form (only a `CREATED` event does).
    var events: [(message: QueuedMessage, state: String, spec: String?)] {
        get throws { [(keyed, "CREATED", try StoredJSON.text(keyed)), (keyed, "DELIVERED", nil), (queued, "CREATED", try StoredJSON.text(queued))] }
    }

    /// The messages an older store dead-lettered.
    var letters: [QueuedMessage] { [keyed, queued, escaped] }

    /// The statements of the runs an older store kept, the same in both stores' SQL.
    static let runs = [
        """
        INSERT INTO runs (id, workflow, input, status, phase, created_at, updated_at, endpoint_url, endpoint_defaults)
        VALUES ('sdk-run', 'http://127.0.0.1:9/wf', '{}', 'failed', 'main', 1, 1, 'http://127.0.0.1:9/wf',
            '{"headers": [], "overrides": {"flowControl": {"concurrencyKey": "resumed"}}}')
        """,
        """
        INSERT INTO runs (id, workflow, input, status, phase, created_at, updated_at, endpoint_url, endpoint_defaults)
        VALUES ('js-run', 'http://127.0.0.1:9/js', '{}', 'running', 'main', 1, 1, 'http://127.0.0.1:9/js',
            '{"headers": [], "flowControl": {"rateKey": "triggered", "rateLimit": 5}}')
        """,
        """
        INSERT INTO runs (id, workflow, input, status, phase, created_at, updated_at, concurrency_key, concurrency_limit)
        VALUES ('yaml-run', 'orders', '{}', 'succeeded', 'main', 2, 2, 'tenant', 1)
        """,
    ]

    /// Checks `store`, upgraded, against what the upgrade must make of the rows.
    func expectUpgraded(_ store: any Store) async throws {
        var events = MessageEventFilter()
        events.match.flowControlKeys = ["k"]
        let found = try await store.messageEvents(matching: events, before: nil, count: 10).events
        #expect(found.map(\.state) == [.delivered, .created], "the delivered event takes its key from the created one")
        var letters = MessageDeadLetterFilter()
        letters.match.flowControlKeys = ["k", "nul"]
        let dead = try await store.messageDeadLetters(matching: letters, after: nil, count: 10).letters.map(\.message.id)
        #expect(Set(dead) == [keyed.id, escaped.id])
        events.match.flowControlKeys = [NamedQueue.flowKey(of: "mail")]
        #expect(try await store.messageEvents(matching: events, before: nil, count: 10).events.isEmpty, "a queue's key is not its message's own")
        for (key, run) in [("resumed", "sdk-run"), ("triggered", "js-run"), ("tenant", "yaml-run")] {
            var filter = RunFilter()
            filter.flowControlKeys = [key]
            #expect(try await store.runs(filter).map(\.id) == [run])
        }
    }
}
