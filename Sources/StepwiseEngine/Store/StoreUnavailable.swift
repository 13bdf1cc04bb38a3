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

/// An error of a store's database that may say the store is unavailable for now (a full disk, a
/// database locked by another process) rather than that the request is wrong: the store module
/// says which of its database's errors those are.
public protocol StoreAvailabilityError: Error {
    /// Why the store is unavailable for now, or `nil` when the error means something else.
    var unavailableReason: String? { get }
}

extension StoreUnavailable {
    /// The unavailability `error` means: itself, or a database error that says so.
    public static func meant(by error: any Error) -> StoreUnavailable? {
        if let unavailable = error as? StoreUnavailable { return unavailable }
        return (error as? any StoreAvailabilityError)?.unavailableReason.map(StoreUnavailable.init(reason:))
    }
}
