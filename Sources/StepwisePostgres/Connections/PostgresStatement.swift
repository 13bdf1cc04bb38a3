import PostgresNIO

/// A statement written with `?` placeholders (as the SQLite store writes them) and its values,
/// turned into PostgreSQL's numbered parameters.
struct PostgresStatement {
    let query: PostgresQuery

    /// `sql` with each `?` bound to the value at the same index of `values` (`nil` binds NULL).
    /// A `?` inside a quoted literal (`'…'`, a regular expression's) is part of the literal.
    init(_ sql: String, _ values: [(any PostgresThrowingDynamicTypeEncodable)?]) throws {
        var numbered = ""
        var index = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            guard character == "?", !quoted else {
                numbered.append(character)
                continue
            }
            index += 1
            numbered += "$\(index)"
        }
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value {
                try Self.bind(value, to: &bindings)
            } else {
                bindings.appendNull()
            }
        }
        query = PostgresQuery(unsafeSQL: numbered, binds: bindings)
    }

    private static func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value, to bindings: inout PostgresBindings) throws {
        try bindings.append(value)
    }
}
