/// The calendar and clock fields of a timestamp as seen in one time zone, with CEL's numbering
/// (zero-based month and days, Sunday = 0), backing the `get…()` timestamp accessors.
public struct CalendarFields: Sendable, Hashable {
    /// `getFullYear()`: the year, e.g. 2009.
    public let fullYear: Int64
    /// `getMonth()`: the month, 0 (January) through 11.
    public let month: Int64
    /// `getDayOfYear()`: the day of the year, starting at 0 on January 1.
    public let dayOfYear: Int64
    /// `getDayOfMonth()`: the day of the month, starting at 0.
    public let dayOfMonth: Int64
    /// `getDate()`: the day of the month, starting at 1.
    public let date: Int64
    /// `getDayOfWeek()`: 0 for Sunday through 6 for Saturday.
    public let dayOfWeek: Int64
    /// `getHours()`: the hour of the day, 0 through 23.
    public let hours: Int64
    /// `getMinutes()`: the minute of the hour, 0 through 59.
    public let minutes: Int64
    /// `getSeconds()`: the second of the minute, 0 through 59.
    public let seconds: Int64
    /// `getMilliseconds()`: the millisecond of the second, 0 through 999.
    public let milliseconds: Int64
}
