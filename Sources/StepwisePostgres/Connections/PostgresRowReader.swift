import PostgresNIO

/// One row of a result, read by column name.
struct PostgresRowReader {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    /// The value of column `name` as `T` (an optional type reads NULL as `nil`).
    func callAsFunction<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try row[name].decode(T.self)
    }
}
