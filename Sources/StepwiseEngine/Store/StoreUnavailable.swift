/// The store cannot be used now: its database is unreachable, or no connection came free within
/// the time a request may wait for one. The same request may succeed later, so the API answers
/// 503 with `Retry-After` rather than 500. A write cut off by a lost connection may or may not
/// have been committed, as with any database.
public struct StoreUnavailable: Error, Equatable, CustomStringConvertible {
    /// Why, in words for the log (never the statement or its values).
    public let reason: String

    /// An unavailability for `reason`.
    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "the store is unavailable: \(reason)" }
}
