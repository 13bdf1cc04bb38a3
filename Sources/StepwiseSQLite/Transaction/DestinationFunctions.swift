import GRDB
import StepwiseProtocol

/// SQL functions giving the host and path of a destination URL exactly as `Destination` reads
/// them, so a filter in SQL and one in Swift (the queue's bulk cancel) take the same messages.
enum DestinationFunctions {
    /// `stepwise_url_host(url)`: `Destination.host(of:)`.
    static let host = function("stepwise_url_host", Destination.host(of:))
    /// `stepwise_url_path(url)`: `Destination.path(of:)`.
    static let path = function("stepwise_url_path", Destination.path(of:))

    /// Makes both known to connection `db`.
    static func add(to db: Database) {
        db.add(function: host)
        db.add(function: path)
    }

    private static func function(_ name: String, _ part: @escaping @Sendable (String) -> String) -> DatabaseFunction {
        DatabaseFunction(name, argumentCount: 1, pure: true) { values in
            String.fromDatabaseValue(values[0]).map(part)
        }
    }
}
