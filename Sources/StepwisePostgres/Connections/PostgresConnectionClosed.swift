/// The connection a statement waited on closed before the driver answered it.
struct PostgresConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection closed before PostgreSQL answered" }
}
