import Foundation
import GRDB
import Logging
import StepwiseEngine
import StepwiseSQLite
import StepwiseExpressions
import StepwiseRuntime
import Synchronization
import StepwiseTesting

/// One engine "process": a `SQLiteStore` on a database file, a runner sending real HTTP, and the
/// delivery loop running in a task, as `stepwise serve` has them.
struct EngineNode: Sendable {
    let store: SQLiteStore
    let runner: WorkflowRunner
    let engine: WorkflowEngine
    private let deliveries: Task<Void, any Error>

    /// Opens the database at `databasePath`, installs `definitions` and starts delivering.
    /// `warm: false` makes the runner replay every run from its journal at each delivery.
    static func start(
        databasePath: String, definitions: [WorkflowDefinition], owner: String = "node-1", warm: Bool = true,
        configuration: WorkflowEngine.Configuration = .init(),
        clock: @escaping @Sendable () -> TimestampValue = WorkflowEngine.systemTime, logger: Logger = silentLogger
    ) async throws -> EngineNode {
        let store = try SQLiteStore(path: databasePath)
        let runner = WorkflowRunner(
            http: AsyncHTTPTransport(), secrets: EnvironmentSecrets([:]), warmCapacity: warm ? 1_000 : 0,
            clock: WorkflowEngine.systemTime)
        let engine = WorkflowEngine(
            store: store, runner: runner, owner: owner, configuration: configuration, logger: logger, clock: clock)
        try await engine.install(definitions)
        let deliveries = Task { try await engine.runDeliveries() }
        return EngineNode(store: store, runner: runner, engine: engine, deliveries: deliveries)
    }

    /// Stops the delivery loop the way a graceful shutdown does and waits until it has returned.
    func stop() async {
        deliveries.cancel()
        _ = await deliveries.result
    }

    /// Starts a run, failing the test when the engine refuses it.
    func start(_ workflow: String, input: Value = [:], runId: String? = nil) async throws -> RunRecord {
        try await engine.start(workflow: workflow, input: input, runId: runId).run
    }
}

/// A database file in a fresh temporary directory, and engines on it.
struct EngineHarness: Sendable {
    let directory: TemporaryDirectory
    let databasePath: String

    init() throws {
        directory = try TemporaryDirectory()
        databasePath = directory.path("stepwise.db")
    }

    /// Starts an engine on this harness's database, runs `body` with it, and stops it afterwards
    /// (also when `body` throws).
    func withEngine<T>(
        _ definitions: [WorkflowDefinition], owner: String = "node-1", warm: Bool = true,
        configuration: WorkflowEngine.Configuration = .init(), clock: @escaping @Sendable () -> TimestampValue = WorkflowEngine.systemTime,
        logger: Logger = silentLogger, _ body: (EngineNode) async throws -> T
    ) async throws -> T {
        let node = try await EngineNode.start(
            databasePath: databasePath, definitions: definitions, owner: owner, warm: warm, configuration: configuration,
            clock: clock, logger: logger)
        do {
            let result = try await body(node)
            await node.stop()
            return result
        } catch {
            await node.stop()
            throw error
        }
    }
}

/// The system clock, counting how often the engine reads it. The delivery loop reads the clock
/// once per claim and once per idle-time computation, so the count shows whether an idle engine
/// sleeps or keeps polling the store.
final class CountingClock: Sendable {
    private let reads = Mutex(0)

    var count: Int { reads.withLock { $0 } }

    var now: @Sendable () -> TimestampValue {
        { [self] in
            reads.withLock { $0 += 1 }
            return WorkflowEngine.systemTime()
        }
    }
}

/// Another process's write transaction on the database, held on its own thread for a while (so
/// that the engine's writes wait for it), then rolled back.
final class WriteLock: Sendable {
    private let state = Mutex((held: false, taken: false))

    var isHeld: Bool { state.withLock { $0.held } }
    /// Whether the lock was ever taken: a loaded machine may look only after it was let go.
    var wasTaken: Bool { state.withLock { $0.taken } }

    init(path: String, holdFor seconds: Double) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        Thread.detachNewThread { [self] in
            try? queue.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                self.state.withLock { $0 = (held: true, taken: true) }
                Thread.sleep(forTimeInterval: seconds)
                try db.execute(sql: "ROLLBACK")
                self.state.withLock { $0.held = false }
            }
        }
    }
}
