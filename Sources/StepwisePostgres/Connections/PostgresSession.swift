import Logging
import PostgresNIO

/// One connection lent to a transaction running on a worker thread: each statement waits for its
/// answer, so the engine's synchronous `StoreTransaction` applies to PostgreSQL as to SQLite.
/// Never used on an event loop (waiting there would deadlock it).
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs `sql` (with `?` placeholders) and returns its rows and the count of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = []) throws -> PostgresQueryResult {
        let query = try PostgresStatement(sql, values).query
        let answer = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
        // One trip to the connection's event loop a statement, as a query sent from this thread
        // takes: the statement, its watch and the watch's end are all arranged there.
        connection.eventLoop.execute { [connection, logger] in
            connection.query(query, logger: logger).cascade(to: answer)
            let watch = Self.failWhenClosed(answer, connection)
            answer.futureResult.whenComplete { _ in watch.cancel() }
        }
        return try answer.futureResult.wait()
    }

    /// Checks every second while `answer` is awaited that `connection` is still open, and fails
    /// it once the connection has closed. The driver may never answer a statement sent as the
    /// server ends the connection (a backend terminated under load: a node's delivery loop then
    /// stood still for the session's whole 40 s deadline).
    private static func failWhenClosed(_ answer: EventLoopPromise<PostgresQueryResult>, _ connection: PostgresConnection) -> RepeatedTask {
        connection.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
            guard connection.isClosed else { return }
            answer.fail(PostgresConnectionClosed())
            task.cancel()
        }
    }

    /// The rows `sql` returns.
    func rows(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = []) throws -> [PostgresRowReader] {
        try execute(sql, values).rows.map(PostgresRowReader.init)
    }

    /// The first row `sql` returns, if any.
    func row(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = []) throws -> PostgresRowReader? {
        try execute(sql, values).rows.first.map(PostgresRowReader.init)
    }

    /// The first column of the first row `sql` returns, if any (`nil` for NULL too).
    func value<T: PostgresDecodable>(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = [], as type: T.Type = T.self)
        throws -> T? where T._DecodableType == T
    {
        guard let row = try execute(sql, values).rows.first else { return nil }
        return try row.makeRandomAccess()[0].decode(T?.self)
    }

    /// The first column of every row `sql` returns.
    func values<T: PostgresDecodable>(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = [], as type: T.Type = T.self)
        throws -> [T]
    {
        try execute(sql, values).rows.map { try $0.makeRandomAccess()[0].decode(T.self) }
    }

    /// Whether `sql` changed any row.
    func changes(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?] = []) throws -> Bool {
        (try execute(sql, values).metadata.rows ?? 0) > 0
    }
}

