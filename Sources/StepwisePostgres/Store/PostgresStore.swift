import Foundation
import Logging
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime

/// The `Store` for several engine nodes sharing one PostgreSQL database: every change is one
/// transaction (`RunTransitions` over `PostgresTransaction`), due messages are claimed with
/// `FOR UPDATE SKIP LOCKED`, flow-control keys are locked while admitting, and a commit that
/// makes work due tells every node (`LISTEN`/`NOTIFY`).
///
/// A service: its connection pool runs from `open` until `run` ends at shutdown (or `close`).
public final class PostgresStore: Store, Service, CustomReflectable {
    private let pool: PostgresPool
    /// The threads transactions run on: each waits for its statements' answers in turn.
    let workers: NIOThreadPool
    let logger: Logger
    let location: PostgresLocation

    /// The channel commits that make work due notify.
    static let workChannel = "stepwise_work"
    /// `dump` and debuggers show where the store is, never the pool's configuration, which
    /// holds the password.
    public var customMirror: Mirror { Mirror(self, children: ["location": location.named]) }

    /// How long a transaction waits for a connection before the store is called unavailable.
    let connectionWait: Duration
    /// How much longer a transaction that has its connection waits for its answers: ours take
    /// milliseconds, so only a database that stopped answering reaches it.
    let answerWait: Duration
    /// The wait for answers when `open` is not told otherwise.
    public static let standardAnswerWait = Duration.seconds(30)
    /// The wait for a connection when `open` is not told otherwise.
    public static let standardConnectionWait = Duration.seconds(10)

    private init(location: PostgresLocation, connectionWait: Duration, answerWait: Duration, logger: Logger) {
        pool = PostgresPool(location: location, configuration: location.clientConfiguration, logger: logger)
        self.location = location
        self.connectionWait = connectionWait
        self.answerWait = answerWait
        self.logger = logger
        // A worker thread a connection: a transaction's statements block their thread.
        workers = NIOThreadPool(numberOfThreads: location.poolSize)
        workers.start()
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, with
    /// the parameters of `PostgresLocation`) and migrates it to the current schema. Later, a
    /// transaction that gets no connection within `connectionWait` (the database is down, or every
    /// connection stays busy), or no answer within `answerWait` more (the database stopped
    /// answering), fails with `StoreUnavailable` instead of waiting on.
    public static func open(
        url: String, connectionWait: Duration = standardConnectionWait, answerWait: Duration = standardAnswerWait,
        logger: Logger = Logger(label: "stepwise.postgres")
    ) async throws -> PostgresStore {
        // PostgresNIO logs every row it receives, values and all, at trace: rows hold signing
        // keys and runs' inputs, which no log may show.
        let logger = rowless(logger)
        let location = try PostgresLocation(url: url)
        // One connection of its own first: a pool would keep retrying an unreachable server.
        let worker = NIOThreadPool(numberOfThreads: 1)
        worker.start()
        var connection: PostgresConnection?
        do {
            let opened = try await location.connect(logger: logger)
            connection = opened
            try await worker.runIfActive { try PostgresSchema.migrate(PostgresSession(connection: opened, logger: logger)) }
        } catch {
            try? await connection?.close()
            try? await worker.shutdownGracefully()
            throw PostgresStoreError.unreachable("\(location.named): \(PostgresStoreError.describe(error))")
        }
        try? await connection?.close()
        try? await worker.shutdownGracefully()
        return PostgresStore(location: location, connectionWait: connectionWait, answerWait: answerWait, logger: logger)
    }

    /// Whether the database answers and takes writes: a standby (a read-only transaction by
    /// default, after a failover the URL has not followed) is unavailable, as every write would fail.
    public func checkAvailable() async throws {
        let readOnly = try await session { session in try session.value("SELECT current_setting('transaction_read_only')", as: String.self) }
        if readOnly == "on" { throw StoreUnavailable(reason: "the database takes no writes (transaction_read_only is on: a standby, or default_transaction_read_only)") }
    }

    /// `logger` at debug at the most detailed: PostgresNIO logs the rows it receives at trace.
    private static func rowless(_ logger: Logger) -> Logger {
        var logger = logger
        logger.logLevel = max(logger.logLevel, .debug)
        return logger
    }

    /// Runs until the service group shuts down, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes the worker threads, then the connection pool. In that order: a transaction still
    /// running on a worker waits on its connection's answer, which never comes once the pool is
    /// gone, and the workers' shutdown would wait on it forever (a hung `swift test`, session 36).
    public func close() async {
        let workers = self.workers
        // A worker whose statement never got its answer would hold the stop for ever: past the
        // longest a transaction waits, the pool closes anyway, which fails that statement.
        _ = await LimitedWait.completes(within: connectionWait + answerWait) { try? await workers.shutdownGracefully() }
        await pool.close()
    }

    // MARK: Transactions

    /// Runs `body` in one transaction, tried again when PostgreSQL aborted it for a conflict with
    /// another node's (a deadlock, a serialization failure or a unique key both inserted).
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await session { session in try Self.transaction(session, body) }
            } catch let error as PostgresStoreError where error.isConflict && attempt < 20 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }

    /// Runs `body` with a connection of the pool on a worker thread. No connection within
    /// `connectionWait`, no answer within `answerWait` more (the connection is closed: a database
    /// that stopped, or a route that dropped without a reset, would leave it waiting for TCP's
    /// timeout, many minutes), or a connection lost on the way, is `StoreUnavailable`; the
    /// driver's other errors come out described (`PostgresStoreError.failed`). The work and its
    /// deadline run in tasks of their own and the first to finish answers: a statement whose
    /// answer never comes, even once its connection is closed, cannot hold the caller.
    func session<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let lease = ConnectionLease()
        let lending = pool.lending()
        let (outcomes, outcome) = AsyncStream<Result<T, any Error>>.makeStream(bufferingPolicy: .bufferingOldest(1))
        let work = Task {
            do {
                let value = try await lending.withConnection { connection in
                    guard lease.begin(connection) else { throw CancellationError() }
                    defer { lease.finish() }
                    return try await self.workers.runIfActive { try body(PostgresSession(connection: connection, logger: self.logger)) }
                }
                outcome.yield(.success(value))
            } catch {
                outcome.yield(.failure(unavailability(of: error, lease, lending)))
            }
        }
        let deadline = Task {
            try? await Task.sleep(for: connectionWait)
            if lease.expire() {
                lending.gaveNoConnection()
                work.cancel()
                outcome.yield(.failure(StoreUnavailable(reason: "no PostgreSQL connection came free within \(connectionWait)")))
                return
            }
            try? await Task.sleep(for: answerWait)
            guard !Task.isCancelled, let connection = lease.abandon() else { return }
            outcome.yield(.failure(StoreUnavailable(reason: "PostgreSQL did not answer within \(connectionWait + answerWait)")))
            try? await connection.close()
        }
        defer { deadline.cancel() }
        return try await withTaskCancellationHandler {
            var first = outcomes.makeAsyncIterator()
            guard let result = await first.next() else { throw CancellationError() }
            return try result.get()
        } onCancel: {
            work.cancel()
        }
    }

    /// A session's failure as the store reports it: a connection never had or lost is
    /// `StoreUnavailable`, the driver's other errors are described.
    private func unavailability(of error: any Error, _ lease: ConnectionLease, _ lending: PostgresPool.Lending) -> any Error {
        if error is CancellationError { return error }
        guard lease.began else {
            lending.gaveNoConnection()
            return StoreUnavailable(reason: PostgresStoreError.describe(error))
        }
        guard !PostgresStoreError.isConnectionLost(error) else { return StoreUnavailable(reason: PostgresStoreError.describe(error)) }
        return PostgresStoreError.described(error)
    }

    /// Reads with `body` in one read-only transaction (one snapshot of several statements; a
    /// single statement reads one snapshot anyway, with `session`).
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await session { session in
            try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? session.execute("COMMIT") }
            return try body(session)
        }
    }

    /// How long a write transaction may sit idle between its statements, or wait for a lock,
    /// before PostgreSQL ends it: a node cut off mid-transaction (a partition, a host lost without
    /// a reset) would otherwise leave its session holding row and advisory locks until the route
    /// heals or TCP gives up, hours later, and every other node's claim would skip its runs, or
    /// wait on its key's lock, for that long. Far beyond what a live node takes between two
    /// statements; within the default lease's takeover.
    static let heldLockLimit = "10s"

    private static func transaction<T>(_ session: PostgresSession, _ body: (PostgresTransaction) throws -> T) throws -> T {
        try session.execute("BEGIN")
        do {
            // For this transaction only (`set_config`'s `true`): it works through a pooler too.
            try session.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', ?, true), set_config('lock_timeout', ?, true)",
                [heldLockLimit, heldLockLimit])
            let transaction = PostgresTransaction(session)
            let result = try body(transaction)
            if transaction.madeDue.concernsOthers { try session.execute("SELECT pg_notify(?, '')", [workChannel]) }
            try session.execute("COMMIT")
            return result
        } catch {
            _ = try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// `RunTransitions` applied in one transaction.
    func transitions<T: Sendable>(_ body: @escaping @Sendable (RunTransitions<PostgresTransaction>) throws -> T) async throws -> T {
        try await write { transaction in try body(RunTransitions(transaction)) }
    }
}

extension PostgresStore {
    /// Listens on the work channel with a connection of its own (not one of the pool's).
    /// Fails with the driver's error described (`PostgresStoreError.described`): its own text
    /// says only "Generic description to prevent accidental leakage".
    public func watchForWork(_ onWork: @escaping @Sendable () -> Void) async throws {
        let connection: PostgresConnection
        do {
            connection = try await location.connect(logger: logger)
        } catch {
            throw PostgresStoreError.described(error)
        }
        do {
            try await connection.listen(on: Self.workChannel) { notifications in
                for try await _ in notifications { onWork() }
            }
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw PostgresStoreError.described(error)
        }
    }
}
