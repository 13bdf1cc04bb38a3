/// A CEL `google.protobuf.Timestamp`: an instant with nanosecond precision, independent of time zone.
///
/// The representable range is `0001-01-01T00:00:00Z` through `9999-12-31T23:59:59.999999999Z`,
/// inclusive, as the CEL specification requires; every operation that could leave it throws.
public struct TimestampValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z (negative for earlier instants).
    public var nanosecondsSinceEpoch: Int128 { storage.value }
    private let storage: SplitInteger

    private static let nanosecondsPerSecond = DurationValue.nanosecondsPerSecond
    private static let secondsPerDay: Int64 = 86_400
    /// Seconds from the epoch to 0001-01-01T00:00:00Z and to 9999-12-31T23:59:59Z.
    private static let secondsRange: ClosedRange<Int64> = -62_135_596_800...253_402_300_799
    private static let nanosecondsRange: ClosedRange<Int128> =
        Int128(secondsRange.lowerBound) * nanosecondsPerSecond
            ... Int128(secondsRange.upperBound) * nanosecondsPerSecond + (nanosecondsPerSecond - 1)
    /// The spans `difference(_:)` can return: Go's `time.Duration` range, which CEL conformance assumes.
    private static let differenceRange = Int128(Int64.min)...Int128(Int64.max)

    /// 1970-01-01T00:00:00Z.
    public static let epoch = TimestampValue(validNanoseconds: 0)
    /// 9999-12-31T23:59:59Z, the latest whole second a timestamp names: no store keeps a due
    /// time after it.
    public static let latestSecond = TimestampValue(validNanoseconds: Int128(secondsRange.upperBound) * nanosecondsPerSecond)

    /// The instant `nanosecondsSinceEpoch` after the epoch, or the nearest end of the range when it
    /// is outside: for due times, where "later than can be named" must never become "now".
    public init(clampingNanosecondsSinceEpoch nanoseconds: Int128) {
        self.init(validNanoseconds: min(max(nanoseconds, Self.nanosecondsRange.lowerBound), Self.nanosecondsRange.upperBound))
    }

    /// For values known to be in range.
    private init(validNanoseconds: Int128) {
        storage = SplitInteger(validNanoseconds)
    }

    /// Creates the instant `nanosecondsSinceEpoch` after the epoch; throws "timestamp out of range"
    /// outside years 0001–9999 (UTC).
    public init(nanosecondsSinceEpoch: Int128) throws(EvaluationError) {
        guard Self.nanosecondsRange.contains(nanosecondsSinceEpoch) else {
            throw EvaluationError("timestamp out of range")
        }
        storage = SplitInteger(nanosecondsSinceEpoch)
    }

    /// Creates the instant `secondsSinceEpoch` whole seconds after the epoch, as CEL's
    /// `timestamp(int)` does; throws "timestamp out of range" outside years 0001–9999 (UTC).
    public init(secondsSinceEpoch: Int64) throws(EvaluationError) {
        try self.init(nanosecondsSinceEpoch: Int128(secondsSinceEpoch) * Self.nanosecondsPerSecond)
    }

    /// Creates the instant at the given wall-clock fields, read as local time at `utcOffsetSeconds`
    /// east of UTC. Every field is validated (month 1–12, an existing day, no leap second) and the
    /// result must lie within the timestamp range.
    public init(
        year: Int,
        month: Int,
        day: Int,
        hour: Int,
        minute: Int,
        second: Int,
        nanosecond: Int = 0,
        utcOffsetSeconds: Int = 0
    ) throws(EvaluationError) {
        // Year 0 or 10000 local time can still be an in-range instant at a large offset, so only
        // years that are out of range at any offset are rejected here (also preventing overflow).
        guard (0...10_000).contains(year) else {
            throw EvaluationError("timestamp out of range")
        }
        let date = try CivilDate.validated(year: Int64(year), month: Int64(month), day: Int64(day))
        try Self.require(hour, in: 0...23, "hour")
        try Self.require(minute, in: 0...59, "minute")
        try Self.require(second, in: 0...59, "second")
        try Self.require(nanosecond, in: 0...999_999_999, "nanosecond")
        try Self.require(utcOffsetSeconds, in: -86_399...86_399, "UTC offset in seconds")
        let localSeconds = Int128(date.daysSinceEpoch) * Int128(Self.secondsPerDay)
            + Int128(hour * 3_600 + minute * 60 + second)
        let utcSeconds = localSeconds - Int128(utcOffsetSeconds)
        try self.init(nanosecondsSinceEpoch: utcSeconds * Self.nanosecondsPerSecond + Int128(nanosecond))
    }

    /// Parses an RFC 3339 timestamp such as `2009-02-13T23:31:30.5+01:00` (1–9 fraction digits,
    /// `Z` or a numeric offset, case-insensitive `T`/`Z`), as CEL's `timestamp(string)` does.
    public init(parsing text: String) throws(EvaluationError) {
        self = try Self.parse(text)
    }

    /// RFC 3339 in UTC with the shortest exact fraction (Go's `RFC3339Nano`), e.g. `2009-02-13T23:31:30Z`.
    public var description: String {
        formatted(atUTCOffset: 0, zoneSuffix: "Z")
    }

    /// RFC 3339 as local time `utcOffsetSeconds` east of UTC, ending in that offset, with the
    /// shortest exact fraction: `2026-03-29T03:00:00+02:00`, `2026-01-05T09:00:00-03:30`,
    /// `2026-01-05T09:00:00+00:00`. RFC 3339 offsets are whole minutes; for an offset that is not
    /// (local mean time, before time zones were adopted) the UTC form of `description` is returned.
    public func rfc3339(utcOffsetSeconds offset: Int) -> String {
        guard offset % 60 == 0 else { return description }
        let minutes = Int64(abs(offset) / 60)
        let zone = (offset < 0 ? "-" : "+") + Self.zeroPadded(minutes / 60, width: 2) + ":" + Self.zeroPadded(minutes % 60, width: 2)
        return formatted(atUTCOffset: offset, zoneSuffix: zone)
    }

    private func formatted(atUTCOffset offset: Int, zoneSuffix: String) -> String {
        let local = fields(atUTCOffset: offset)
        let date = "\(Self.zeroPadded(local.fullYear, width: 4))-\(Self.zeroPadded(local.month + 1, width: 2))"
            + "-\(Self.zeroPadded(local.date, width: 2))"
        let time = "\(Self.zeroPadded(local.hours, width: 2)):\(Self.zeroPadded(local.minutes, width: 2))"
            + ":\(Self.zeroPadded(local.seconds, width: 2))"
        return "\(date)T\(time)\(DurationValue.fractionSuffix(nanosecondOfSecond: nanosecondOfSecond))\(zoneSuffix)"
    }

    /// Orders instants from earliest to latest.
    public static func < (lhs: TimestampValue, rhs: TimestampValue) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// Milliseconds since the epoch (truncated toward zero), as QStash's JSON writes times.
    public var millisecondsSinceEpoch: Int64 {
        Int64(clamping: nanosecondsSinceEpoch / 1_000_000)
    }

    /// Milliseconds since the epoch rounded up to the next whole millisecond: what a store keeps
    /// as a due time, so that nothing becomes due early (not even by a fraction of a millisecond).
    public var millisecondsRoundedUp: Int64 {
        let (quotient, remainder) = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
        return Int64(clamping: remainder > 0 ? quotient + 1 : quotient)
    }

    /// This instant as a store keeps a due time: rounded up to the next whole millisecond.
    public var roundedUpToMillisecond: TimestampValue {
        TimestampValue(millisecondsSinceEpoch: millisecondsRoundedUp) ?? self
    }

    /// The instant `milliseconds` after the epoch (as stores keep times); `nil` outside years 1–9999.
    public init?(millisecondsSinceEpoch milliseconds: Int64) {
        guard let instant = try? TimestampValue(nanosecondsSinceEpoch: Int128(milliseconds) * 1_000_000) else { return nil }
        self = instant
    }

    /// Whole seconds since the epoch, rounded toward negative infinity like Go's `Unix()`, so
    /// that `int(timestamp)` of an instant before 1970 with a fraction gives the earlier second.
    public var secondsSinceEpoch: Int64 {
        // The range keeps the quotient far inside Int64.
        Int64(Self.flooredDivision(nanosecondsSinceEpoch, by: Self.nanosecondsPerSecond).quotient)
    }

    /// The nanoseconds past `secondsSinceEpoch`, in 0..<1e9.
    private var nanosecondOfSecond: Int64 {
        Int64(Self.flooredDivision(nanosecondsSinceEpoch, by: Self.nanosecondsPerSecond).remainder)
    }

    /// The instant `duration` later; throws "timestamp out of range" past either end of the range.
    public func adding(_ duration: DurationValue) throws(EvaluationError) -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + duration.nanoseconds)
    }

    /// The instant `duration` earlier; throws "timestamp out of range" past either end of the range.
    public func subtracting(_ duration: DurationValue) throws(EvaluationError) -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch - duration.nanoseconds)
    }

    /// The duration `self - other`; throws "duration out of range" unless the span fits in a signed
    /// 64-bit nanosecond count (about ±292 years).
    public func difference(_ other: TimestampValue) throws(EvaluationError) -> DurationValue {
        // Stricter than DurationValue's ±315,576,000,000 s on purpose: the CEL conformance suite
        // (timestamp_range/sub_time_duration_over) requires 9999-12-31T23:59:59Z - 0001-01-01T00:00:00Z,
        // a span of 315,537,897,599 s, to fail, matching cel-go, whose durations are int64 nanoseconds.
        let span = nanosecondsSinceEpoch - other.nanosecondsSinceEpoch
        guard Self.differenceRange.contains(span) else {
            throw EvaluationError("duration out of range")
        }
        return try DurationValue(nanoseconds: span)
    }

    /// The calendar fields of this instant in `zone` (an IANA name such as `"Australia/Sydney"` or
    /// a fixed offset such as `"-02:30"`), or in UTC when `zone` is nil; throws for unknown zones.
    public func fields(in zone: String?) throws(EvaluationError) -> CalendarFields {
        try fields(atUTCOffset: zone.map(utcOffsetSeconds(in:)) ?? 0)
    }

    /// The offset east of UTC, in seconds, that `zone` (IANA name or `[+|-]HH:MM`) has at this
    /// instant, taking daylight saving time into account; throws for unknown zones.
    public func utcOffsetSeconds(in zone: String) throws(EvaluationError) -> Int {
        try TimeZoneOffset(zone: zone, atSecondsSinceEpoch: secondsSinceEpoch).seconds
    }

    /// The calendar fields of the local time `offset` seconds east of UTC.
    private func fields(atUTCOffset offset: Int) -> CalendarFields {
        let localSeconds = secondsSinceEpoch + Int64(offset)
        let (days, secondOfDay) = Self.flooredDivision(localSeconds, by: Self.secondsPerDay)
        let date = CivilDate(daysSinceEpoch: days)
        return CalendarFields(
            fullYear: date.year,
            month: date.month - 1,
            dayOfYear: date.dayOfYear,
            dayOfMonth: date.day - 1,
            date: date.day,
            dayOfWeek: date.dayOfWeek,
            hours: secondOfDay / 3_600,
            minutes: secondOfDay / 60 % 60,
            seconds: secondOfDay % 60,
            milliseconds: nanosecondOfSecond / 1_000_000
        )
    }

    /// Division rounding toward negative infinity, so the remainder is never negative; Swift's
    /// `/` truncates toward zero, which would put instants before 1970 on the wrong second or day.
    private static func flooredDivision<Value: BinaryInteger>(
        _ value: Value,
        by divisor: Value
    ) -> (quotient: Value, remainder: Value) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func require(_ value: Int, in range: ClosedRange<Int>, _ name: String) throws(EvaluationError) {
        guard range.contains(value) else {
            throw EvaluationError("\(name) \(value) is not in \(range)")
        }
    }

    private static func zeroPadded(_ value: Int64, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

// MARK: - RFC 3339 parsing

extension TimestampValue {
    /// Byte offsets of the fixed-width fields in `YYYY-MM-DDTHH:MM:SS`.
    private enum Layout {
        static let year = 0..<4
        static let month = 5..<7
        static let day = 8..<10
        static let hour = 11..<13
        static let minute = 14..<16
        static let second = 17..<19
        static let separators: [(offset: Int, allowed: Set<UInt8>)] = [
            (4, [UInt8(ascii: "-")]),
            (7, [UInt8(ascii: "-")]),
            (10, [UInt8(ascii: "T"), UInt8(ascii: "t")]),
            (13, [UInt8(ascii: ":")]),
            (16, [UInt8(ascii: ":")]),
        ]
        static let expectedForm = "expected YYYY-MM-DDTHH:MM:SS[.fraction] followed by 'Z' or ±HH:MM"
    }

    /// Parses `text`, prefixing any error with the offending text.
    private static func parse(_ text: String) throws(EvaluationError) -> TimestampValue {
        do throws(EvaluationError) {
            let bytes = Array(text.utf8)
            guard bytes.count >= Layout.second.upperBound,
                  Layout.separators.allSatisfy({ $0.allowed.contains(bytes[$0.offset]) })
            else {
                throw EvaluationError(Layout.expectedForm)
            }
            let (nanosecond, zoneStart) = try parseFraction(bytes, from: Layout.second.upperBound)
            return try TimestampValue(
                year: number(bytes, Layout.year, "year"),
                month: number(bytes, Layout.month, "month"),
                day: number(bytes, Layout.day, "day"),
                hour: number(bytes, Layout.hour, "hour"),
                minute: number(bytes, Layout.minute, "minute"),
                second: number(bytes, Layout.second, "second"),
                nanosecond: nanosecond,
                utcOffsetSeconds: parseZone(bytes[zoneStart...])
            )
        } catch {
            throw EvaluationError("invalid timestamp '\(text)': \(error.message)")
        }
    }

    /// The all-digit field at `range`, or an error naming it.
    private static func number(_ bytes: [UInt8], _ range: Range<Int>, _ name: String) throws(EvaluationError) -> Int {
        guard let value = bytes[range].asciiDecimalValue else {
            throw EvaluationError("\(name) '\(String(decoding: bytes[range], as: UTF8.self))' is not a number")
        }
        return value
    }

    /// Parses an optional `.digits` fraction at `start`, returning nanoseconds and where the zone begins.
    private static func parseFraction(
        _ bytes: [UInt8],
        from start: Int
    ) throws(EvaluationError) -> (nanosecond: Int, end: Int) {
        guard start < bytes.count, bytes[start] == UInt8(ascii: ".") else {
            return (0, start)
        }
        let digitsStart = start + 1
        var end = digitsStart
        while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) {
            end += 1
        }
        let digitCount = end - digitsStart
        guard (1...9).contains(digitCount), var nanosecond = bytes[digitsStart..<end].asciiDecimalValue else {
            throw EvaluationError("fractional seconds must have 1 to 9 digits, found \(digitCount)")
        }
        for _ in digitCount..<9 {
            nanosecond *= 10
        }
        return (nanosecond, end)
    }

    /// Parses the zone designator: `Z`/`z` for UTC or a numeric `±HH:MM` offset, returned in seconds.
    private static func parseZone(_ bytes: ArraySlice<UInt8>) throws(EvaluationError) -> Int {
        if bytes.elementsEqual([UInt8(ascii: "Z")]) || bytes.elementsEqual([UInt8(ascii: "z")]) {
            return 0
        }
        // RFC 3339 requires the sign and two-digit hours, which the shared offset parser leaves optional.
        guard bytes.count == 6, bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") else {
            throw EvaluationError(bytes.isEmpty ? "missing time zone ('Z' or ±HH:MM)" : Layout.expectedForm)
        }
        return try TimeZoneOffset(fixedOffset: String(decoding: bytes, as: UTF8.self)).seconds
    }
}
