/// QStash's message log, read and expired the same way on every store over `MessageEventRows`;
/// what it records is decided by `QueuedAttemptResolver` and `RunTransitions` as messages are
/// queued, tried and canceled, in the same transactions.
public struct MessageLog<Rows: MessageEventRows> {
    /// The most events one expiry deletes, so that no transaction grows with a backlog.
    public static var expiredPerTransaction: Int { 1_000 }

    let rows: Rows

    /// The log kept through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Up to `count` events matching `filter` logged before event `before` (from the newest when
    /// `nil`), newest first, and where the next page starts (`nil` on the last).
    public func page(matching filter: MessageEventFilter, before: Int64?, count: Int) throws -> (events: [MessageEvent], next: Int64?) {
        let limit = min(max(count, 1), MessageEventFilter.maximumPage)
        let (events, last) = try PagedRows.page(limit: limit) { try rows.messageEvents(matching: filter, before: before, limit: $0) }
        return (events, last?.sequence)
    }

    /// Deletes up to `expiredPerTransaction` events that happened before `time` (milliseconds);
    /// how many it deleted.
    public func expire(before time: Int64) throws -> Int {
        try rows.deleteMessageEvents(before: time, limit: Self.expiredPerTransaction)
    }
}

/// The rows of QStash's message log.
public protocol MessageEventRows {
    /// Appends `event`, numbered after every event stored before it.
    func appendMessageEvent(_ event: MessageEvent) throws
    /// Up to `limit` events matching `filter` numbered below `before` (all when `nil`), greatest
    /// number first.
    func messageEvents(matching filter: MessageEventFilter, before: Int64?, limit: Int) throws -> [MessageEvent]
    /// Deletes up to `limit` events that happened before `time` (milliseconds), oldest first;
    /// how many it deleted.
    func deleteMessageEvents(before time: Int64, limit: Int) throws -> Int
    /// Whether message `id` has an event that ends its life: `DELIVERED`, `FAILED` or `CANCELED`.
    func messageLogShowsEnd(of id: String) throws -> Bool
}
