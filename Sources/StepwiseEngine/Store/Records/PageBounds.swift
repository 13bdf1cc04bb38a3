/// One page of a listing newest first by time, then id, as the plain values its query binds for
/// `time >= from AND time <= until AND (time < cursorTime OR (time = cursorTime AND id < cursorId))`:
/// the extremes where nothing is given, so a store's query needs no optional branches and walks
/// its time index down from the cursor.
public struct PageBounds: Sendable, Equatable {
    /// The earliest time taken (inclusive).
    public var from: Int64
    /// The latest time taken (inclusive).
    public var until: Int64
    /// The time of the previous page's last item.
    public var cursorTime: Int64
    /// The id of the previous page's last item (breaks ties of time).
    public var cursorId: String

    /// The bounds of the page after `cursor` (the first when `nil`) within `from`...`until`
    /// (milliseconds; open where `nil`).
    public init(from: Int64?, until: Int64?, after cursor: PageCursor?) {
        self.from = from ?? Int64.min
        self.until = until ?? Int64.max
        cursorTime = cursor?.milliseconds ?? Int64.max
        cursorId = cursor?.id ?? ""
    }
}
