import Foundation
import Logging
import Synchronization
@testable import StepwiseEngine
import StepwiseExpressions
import StepwisePostgres
import StepwiseProtocol
import StepwiseRuntime
import StepwiseTesting
import Testing

/// Several engine nodes on one PostgreSQL database: work made due through one node is taken up
/// at once by another (`LISTEN`/`NOTIFY`), and a concurrency limit holds across nodes. One test
/// at a time: each opens several nodes' pools and delivery loops, and two of them at once on a
/// loaded machine measured each other rather than the nodes.
@Suite("Several nodes on PostgreSQL", .serialized, .enabled(if: StoreKind.testable.contains(.postgres), Comment(rawValue: StoreKind.postgresSkipReason)))
struct MultiNodeTests {
    /// A node: its own store (pool) on the shared database and an engine, delivering or not.
    struct Node: Sendable {
        let store: PostgresStore
        let engine: WorkflowEngine
        let loop: Task<Void, any Error>?

        /// Opens a node on `url`; `delivering: false` makes an API-only node (it starts and
        /// notifies runs but delivers nothing). An idle loop looks for work only every
        /// `maximumIdle` unless told of some.
        static func start(
            url: String, name: String, _ definitions: [WorkflowDefinition], delivering: Bool, maximumIdle: Duration = .seconds(120),
            lease: Duration = .seconds(60), logger: Logger = silentLogger
        ) async throws -> Node {
            let store = try await PostgresStore.open(url: url, connectionWait: .seconds(5), answerWait: .seconds(3), logger: silentLogger)
            let runner = WorkflowRunner(http: AsyncHTTPTransport(), secrets: EnvironmentSecrets([:]), clock: WorkflowEngine.systemTime)
            let engine = WorkflowEngine(
                store: store, runner: runner, owner: name, configuration: .init(lease: lease, maximumIdle: maximumIdle), logger: logger)
            try await engine.install(definitions)
            let loop = delivering ? Task { try await engine.runDeliveries() } : nil
            return Node(store: store, engine: engine, loop: loop)
        }

        func stop() async {
            loop?.cancel()
            _ = await loop?.result
            await store.close()
        }
    }

    /// Runs `body` with a fresh database, stopping `nodes` and dropping it afterwards.
    private func withDatabase(_ body: (String) async throws -> [Node]) async throws {
        let database = try await PostgresTestDatabase.create()
        var nodes: [Node] = []
        do {
            nodes = try await body(database.url)
        } catch {
            await database.drop()
            throw error
        }
        for node in nodes { await node.stop() }
        await database.drop()
    }

    static let waiter = """
        workflow: waiter
        steps:
          - id: paid
            wait_for_event: {event: "paid-${{ input.order }}", timeout: 1h}
          - id: thanks
            set: {text: "thanks for ${{ input.order }}"}
        output: ${{ steps.thanks.text }}
        """

    @Test("labels during a rolling upgrade: v10 splits the labels runs have, and keeps the rows of runs an older node starts or relabels")
    func labelsAcrossARollingUpgrade() async throws {
        try await PostgresTestDatabase.with { database in
            await (try await PostgresStore.open(url: database.url, logger: silentLogger)).close()
            // The database as v9 left it, with runs labeled by nodes before v10.
            let insert = { (id: String, label: String) in
                """
                INSERT INTO runs (id, workflow, input, status, phase, created_at, updated_at, endpoint_url, label)
                VALUES ('\(id)', 'http://127.0.0.1:9/wf', '{}', 'failed', 'main', 1, 1, 'http://127.0.0.1:9/wf', '\(label)')
                """
            }
            try await database.execute([
                "DROP TABLE run_labels", "DROP FUNCTION stepwise_run_labels CASCADE", "DELETE FROM stepwise_migrations WHERE name LIKE 'v10:%'",
                insert("run-0", "a, b"), insert("run-1", "b"), insert("run-2", " , "), insert("run-3", "c,c"), insert("run-4", "\td\t,e"),
            ])
            let store = try await PostgresStore.open(url: database.url, logger: silentLogger)
            let found = { (labels: [String]) in try await store.runs(RunFilter(labels: labels)).map(\.id).sorted() }
            #expect(try await found(["a"]) == ["run-0"])
            #expect(try await found(["b"]) == ["run-0", "run-1"])
            #expect(try await found(["c"]) == ["run-3"])
            #expect(try await found(["d", "e"]) == ["run-4"], "trimmed of spaces and tabs")
            // An older node, which knows no run_labels, starts a run and relabels another.
            try await database.execute([insert("run-5", "f, a"), "UPDATE runs SET label = 'z' WHERE id = 'run-1'"])
            #expect(try await found(["a"]) == ["run-0", "run-5"])
            #expect(try await found(["b"]) == ["run-0"], "its old label is gone")
            #expect(try await found(["z"]) == ["run-1"])
            await store.close()
        }
    }

    @Test("a database a newer Stepwise migrated is used with a warning naming its migration; a trace log shows no stored row; a read-only database is unavailable, its writes too")
    func databaseStatesAnOperatorMeets() async throws {
        try await PostgresTestDatabase.with { database in
            await (try await PostgresStore.open(url: database.url, logger: silentLogger)).close()
            try await database.execute(["INSERT INTO stepwise_migrations (name) VALUES ('v99: what a newer build added')"])
            let log = CapturedLog()
            let store = try await PostgresStore.open(url: database.url, logger: log.logger)
            #expect(log.text.contains("migrated by a newer Stepwise (its migration 'v99: what a newer build added' is unknown here)"), "\(log.text)")
            var generator = SystemRandomNumberGenerator()
            let keys = try await store.signingKeys(storingIfAbsent: SigningKeys.generate(using: &generator))
            #expect(try await store.signingKeys(storingIfAbsent: SigningKeys.generate(using: &generator)) == keys)
            let hex = { (key: SigningKey) in key.text.utf8.map { String($0, radix: 16) }.joined() }
            #expect(!log.text.contains(keys.next.text) && !log.text.contains(hex(keys.next)), "a row the store read reached the log")
            try await store.checkAvailable()
            await store.close()
            // A failover the URL did not follow: the connections the pool makes from now on are read-only.
            let readOnly = try await PostgresStore.open(url: database.url, logger: silentLogger)
            try await database.execute(["ALTER DATABASE \(database.name) SET default_transaction_read_only = on"])
            await #expect(throws: StoreUnavailable.self, "/ready of a standby") { try await readOnly.checkAvailable() }
            await #expect(throws: StoreUnavailable.self, "a write on a standby") { _ = try await readOnly.cancel(runId: "wfr_none", at: WorkflowEngine.systemTime()) }
            await readOnly.close()
        }
    }

    @Test("v11 gives each run, logged and dead-lettered message the flow-control key it has, every event of a message; no stored row fails it")
    func flowKeysOfLoggedMessagesOnUpgrade() async throws {
        try await PostgresTestDatabase.with { database in
            await (try await PostgresStore.open(url: database.url, logger: silentLogger)).close()
            let upgrade = FlowKeyUpgrade()
            // The database as v10 left it: messages logged and dead-lettered by nodes before v11.
            func event(_ message: QueuedMessage, _ state: String, spec: String?) -> String {
                let stored = spec.map { "'\($0)'" } ?? "NULL"
                return """
                    INSERT INTO message_events (time, state, message_id, url, queue_name, spec)
                    VALUES (1, '\(state)', '\(message.id)', '\(message.destination)', \(message.queue.map { "'\($0)'" } ?? "NULL"), \(stored))
                    """
            }
            func letter(_ message: QueuedMessage) throws -> String {
                """
                INSERT INTO message_dead_letters (id, message_id, spec, due_at, url, queue_name, response_status, response_headers, response_body,
                    created_at, failed_at)
                VALUES ('dlq_\(message.id)', '\(message.id)', '\(try StoredJSON.text(message))', 0, '\(message.destination)',
                    \(message.queue.map { "'\($0)'" } ?? "NULL"), 500, '[]', '', 1, 1)
                """
            }
            try await database.execute([
                "ALTER TABLE message_events DROP COLUMN flow_key", "ALTER TABLE message_dead_letters DROP COLUMN flow_key",
                "ALTER TABLE runs DROP COLUMN flow_key", "DELETE FROM stepwise_migrations WHERE name LIKE 'v11:%'",
                "ALTER TABLE runs DROP COLUMN caller_ip", "ALTER TABLE message_events DROP COLUMN caller_ip",
                "ALTER TABLE message_dead_letters DROP COLUMN caller_ip",
            ] + (try upgrade.events.map { event($0.message, $0.state, spec: $0.spec) }) + (try upgrade.letters.map(letter)) + FlowKeyUpgrade.runs)
            let store = try await PostgresStore.open(url: database.url, logger: silentLogger)
            try await upgrade.expectUpgraded(store)
            await store.close()
        }
    }

    @Test("a run started and notified through an API-only node is delivered at once by the delivering node, not after its idle timeout")
    func otherNodesWakeOnNotifications() async throws {
        let waiter = try definition(Self.waiter)
        try await withDatabase { url in
            let worker = try await Node.start(url: url, name: "worker", [waiter], delivering: true)
            let front = try await Node.start(url: url, name: "front", [waiter], delivering: false)
            // Let the worker's loop find nothing and go idle (for two minutes) first, its LISTEN
            // up: a start committed before it listens would wait out the idle timeout.
            try await Task.sleep(for: .milliseconds(300))
            _ = try await eventually("the worker to listen", within: .seconds(30)) { try await PostgresTestDatabase.hasListener(url: url) ? true : nil }
            let run = try await front.engine.start(workflow: "waiter", input: ["order": "A-7"]).run
            _ = try await eventually("the run to wait", within: .seconds(10)) { () async throws -> Bool? in
                try await front.store.waiters(event: "paid-A-7").isEmpty ? nil : true
            }
            #expect(try await front.engine.notify(event: "paid-A-7", data: ["amount": 5]).runIds == [run.id])
            // Well under the worker's two-minute idle timeout, with room for a loaded machine.
            let finished = try await finishedRun(run.id, in: front.store, within: .seconds(40))
            #expect(finished.status == .succeeded)
            #expect(finished.output == "thanks for A-7")
            return [worker, front]
        }
    }

    @Test("an event sent to a run just as it comes to wait for it is taken by the wait, never kept beside a parked wait that missed it")
    func notifyRacingTheWait() async throws {
        let racer = try definition("""
            workflow: racer
            steps:
              - id: w
                wait_for_event: {event: go, timeout: 15s}
            output: ${{ steps.w.received }}
            """)
        try await withDatabase { url in
            let node = try await Node.start(url: url, name: "solo", [racer], delivering: true)
            // Eight clients, ten runs each: every notify races its own run's wait, while the
            // node's pool (16 connections) is never the thing waited for, even on a loaded machine.
            let ids = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var ids: [String] = []
                        for index in 0..<10 {
                            let run = try await node.engine.start(workflow: "racer", input: [:]).run
                            // Spread over the moments the run's first delivery may be parking its wait.
                            try await Task.sleep(for: .microseconds((client * 10 + index) % 20 * 500))
                            _ = try await node.engine.notify(event: "go", data: ["ok": true], runId: run.id)
                            ids.append(run.id)
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            for id in ids {
                let run = try await finishedRun(id, in: node.store, within: .seconds(30))
                #expect(run.output == true, "run \(id) missed the event sent to it: \(String(describing: run.output))")
            }
            return [node]
        }
    }

    @Test("a node whose LISTEN connection is ended says why in words and listens again")
    func listenConnectionEnded() async throws {
        let log = CapturedLog()
        try await PostgresTestDatabase.with { database in
            let node = try await Node.start(url: database.url, name: "listener", [], delivering: true, logger: log.logger)
            let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database.name)' AND query LIKE 'LISTEN%'"
            _ = try await eventually("the node to listen") { () async throws -> Bool? in
                try await database.execute([terminate])
                return log.text.contains("notifications of other nodes' work stopped") ? true : nil
            }
            let line = try #require(log.text.split(separator: "\n").first { $0.contains("notifications of other nodes' work stopped") })
            #expect(line.contains("terminating connection due to administrator command") && !line.contains("Generic description"), "\(line)")
            #expect(line.contains("listening again in 1 s"), "\(line)")
            await node.stop()
        }
    }

    @Test("a concurrency limit holds across three nodes claiming at once: deliveries of one key never overlap past the limit")
    func concurrencyLimitAcrossNodes() async throws {
        try await CountingServer.with { target in
            target.fallback("/slow", .json("{}", delay: .milliseconds(300)))
            let limited = try definition("""
                workflow: limited
                concurrency: {key: shared, limit: 2}
                steps:
                  - id: work
                    http: {url: "\(target.url("/slow"))"}
                """)
            try await withDatabase { url in
                var nodes: [Node] = []
                for name in ["n1", "n2", "n3"] {
                    nodes.append(try await Node.start(url: url, name: name, [limited], delivering: true, maximumIdle: .milliseconds(100)))
                }
                var ids: [String] = []
                for index in 0..<9 { ids.append(try await nodes[index % 3].engine.start(workflow: "limited", input: [:]).run.id) }
                for id in ids { #expect(try await finishedRun(id, in: nodes[0].store, within: .seconds(30)).status == .succeeded) }
                let starts = target.requests(to: "/slow").map(\.receivedAt).sorted()
                #expect(starts.count == 9, "no delivery is dropped or repeated")
                // Each request takes 300 ms: a third one starting within 290 ms of the one two
                // before it would mean three deliveries of the key at once.
                for (first, third) in zip(starts, starts.dropFirst(2)) {
                    #expect(third.timeIntervalSince(first) >= 0.29, "three deliveries of the key overlapped across the nodes")
                }
                return nodes
            }
        }
    }

    @Test("a node cut off from the database gives its slow step and its slow message up before another node takes them over: no request is made by two nodes at once")
    func cutOffNodeGivesUpBeforeTakeover() async throws {
        try await CountingServer.with { target in
            target.script("/slow", .json(#"{"n": 1}"#, delay: .seconds(40)), .json(#"{"n": 2}"#))
            target.script("/message", .json("{}", delay: .seconds(40)), .json("{}"))
            let slow = try definition("""
                workflow: slow
                concurrency: {key: slow, limit: 1}
                steps:
                  - id: fetch
                    http: {url: "\(target.url("/slow"))", timeout: 60s}
                output: ${{ steps.fetch.body.n }}
                """)
            let database = try await PostgresTestDatabase.create()
            guard var location = URLComponents(string: database.url), let port = location.port else {
                await database.drop()
                throw WaitTimeout(description: "the test database's URL names no port: \(database.url)")
            }
            let forwarder = TCPForwarder(toPort: port)
            defer { forwarder.stop() }
            try forwarder.start()
            location.port = forwarder.port
            let cutOffLog = CapturedLog()
            var nodes: [Node] = []
            do {
                let lease = Duration.seconds(6)
                nodes.append(try await Node.start(url: location.string ?? "", name: "cut-off", [slow], delivering: true, maximumIdle: .milliseconds(100), lease: lease, logger: cutOffLog.logger))
                let run = try await nodes[0].engine.start(workflow: "slow", input: [:]).run
                let message = try PublishedMessage(
                    destination: target.url("/message"), headers: HeaderFields([("Upstash-Timeout", "60s")]), body: Array("{}".utf8))
                guard case .success = try await nodes[0].engine.publish([message]) else { throw WaitTimeout(description: "the message was refused") }
                _ = try await eventually("the first node's requests") { target.requests(to: "/slow").first.flatMap { _ in target.requests(to: "/message").first } }
                nodes.append(try await Node.start(url: database.url, name: "other", [slow], delivering: true, maximumIdle: .milliseconds(100), lease: lease))
                forwarder.freeze(true)
                var gaveUp: Date?
                let again = try await eventually("the other node's requests", within: .seconds(30), every: .milliseconds(10)) { () -> [ReceivedRequest]? in
                    if gaveUp == nil, await nodes[0].engine.inFlightCount == 0 { gaveUp = Date() }
                    let repeated = ["/slow", "/message"].compactMap { target.requests(to: $0).dropFirst().first }
                    return repeated.count == 2 ? repeated : nil
                }
                let given = try #require(gaveUp, "the cut-off node's requests ended before the other node's began: \(cutOffLog.text)")
                #expect(again.allSatisfy { given < $0.receivedAt }, "the cut-off node gave up before the other one made the requests")
                #expect(cutOffLog.text.contains("their requests are cancelled and their outcomes dropped"))
                let finished = try await finishedRun(run.id, in: nodes[1].store)
                #expect(finished.status == .succeeded && finished.output == 2)
                #expect(try await nodes[1].store.journal(runId: run.id).map(\.stepName) == ["init", "fetch"], "the step recorded once")
                forwarder.freeze(false)
            } catch {
                forwarder.freeze(false)
                for node in nodes { await node.stop() }
                await database.drop()
                throw error
            }
            for node in nodes { await node.stop() }
            await database.drop()
        }
    }

    @Test("a queue's messages start in the order enqueued, one at a time, with three nodes claiming at once")
    func queueOrderAcrossNodes() async throws {
        let order = Mutex<[Int64]>([])
        let load = InFlightGauge()
        try await CountingServer.with { target in
            target.handle("/ordered") { request in
                await load.during { try? await Task.sleep(for: .milliseconds(20)) }
                if case .int(let n)? = (try? Value(json: request.body))?["n"] { order.withLock { $0.append(n) } }
                return .json("{}")
            }
            try await withDatabase { url in
                var nodes: [Node] = []
                for name in ["n1", "n2", "n3"] {
                    nodes.append(try await Node.start(url: url, name: name, [], delivering: true, maximumIdle: .milliseconds(100)))
                }
                // Enqueued one by one through the nodes in turn while earlier ones wait or are in
                // flight: a claim that read its candidates before a slot was freed must not start
                // a later message first.
                for n in 0..<12 {
                    let message = try PublishedMessage(
                        destination: target.url("/ordered"), headers: HeaderFields(), body: Array(#"{"n":\#(n)}"#.utf8), queue: "fifo")
                    let published = try await nodes[n % 3].engine.publish([message])
                    guard case .success = published else {
                        Issue.record("message \(n) was refused: \(published)")
                        return nodes
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
                _ = try await eventually("all twelve deliveries", within: .seconds(30)) { order.withLock { $0.count } == 12 ? true : nil }
                #expect(order.withLock { $0 } == Array(0..<12))
                #expect(load.highest == 1, "one at a time across the nodes")
                return nodes
            }
        }
    }
}
