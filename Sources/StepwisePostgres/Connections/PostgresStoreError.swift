import PostgresNIO

/// Why the PostgreSQL store cannot be used, in words for the person starting Stepwise.
public enum PostgresStoreError: Error, CustomStringConvertible {
    case badLocation(String)
    case unreachable(String)
    /// A statement or a connection failed: the server's message and SQLSTATE, or the driver's
    /// code, never the statement or its values. The driver's own error describes itself only as
    /// "Generic description…" to avoid leaks, which left a log with nothing to go on.
    case failed(message: String, sqlState: String?)

    public var description: String {
        switch self {
        case .badLocation(let message): message
        case .unreachable(let message): "PostgreSQL could not be used: \(message)"
        case .failed(let message, let sqlState): "PostgreSQL: \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
        }
    }

    /// `error` in words when it is the driver's, for the log; other errors pass unchanged.
    static func described(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        return PostgresStoreError.failed(message: describe(error), sqlState: error.serverInfo?[.sqlState])
    }

    /// Whether PostgreSQL aborted the transaction for a conflict with a concurrent one.
    var isConflict: Bool {
        guard case .failed(_, let sqlState?) = self else { return false }
        return Self.conflictStates.contains(sqlState)
    }

    /// An error of the driver in words, without the statement or values it carried.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }

    /// Whether `error` is the driver's for a connection that failed or closed under a statement,
    /// or the server's for a database that cannot serve for now (`unavailableStates`): a request
    /// meeting it is answered 503 with `Retry-After`, not 500.
    static func isConnectionLost(_ error: any Error) -> Bool {
        if error is PostgresConnectionClosed { return true }
        guard let error = error as? PSQLError else { return false }
        if let sqlState = error.serverInfo?[.sqlState], isUnavailable(sqlState: sqlState) { return true }
        return lostConnectionCodes.contains(error.code)
    }

    /// Whether the server's `sqlState` says it cannot serve for now: a connection exception
    /// (class 08), a shutdown or restart (57P01–57P03), too many connections (53300), a statement
    /// canceled by its timeout (57014), or a read-only transaction (25006: a standby after a
    /// failover, until the URL reaches the new primary).
    static func isUnavailable(sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || unavailableStates.contains(sqlState)
    }

    private static let lostConnectionCodes: Set<PSQLError.Code> = [.connectionError, .serverClosedConnection, .uncleanShutdown, .poolClosed]
    private static let unavailableStates: Set<String> = ["57P01", "57P02", "57P03", "53300", "57014", "25006"]

    /// The SQLSTATEs of a transaction aborted for a conflict with a concurrent one, so that
    /// running it again is right: a serialization failure, a deadlock, or a unique key inserted by both.
    static let conflictStates: Set<String> = ["40001", "40P01", "23505"]
}
