/// A store file this build cannot open as it is.
enum SQLiteSchemaError: Error, CustomStringConvertible {
    /// A newer Stepwise migrated the store: the message names its migration and what to run.
    case newerSchema(String)

    var description: String {
        switch self {
        case .newerSchema(let message): message
        }
    }
}
