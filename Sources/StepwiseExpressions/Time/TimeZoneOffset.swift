import Foundation

/// The UTC offset that a CEL time zone argument denotes at a particular instant.
///
/// CEL accepts either a fixed offset (`"+11:00"`, `"-02:30"`, `"02:00"`, `"-00:00"`) or an IANA
/// zone name (`"UTC"`, `"Australia/Sydney"`). Foundation is used only to look up IANA offsets,
/// since those depend on the tz database (daylight saving time, historical changes).
struct TimeZoneOffset: Sendable, Hashable {
    /// Seconds east of UTC: local time = UTC + `seconds`.
    let seconds: Int

    /// Wraps an offset in seconds that the caller has already validated.
    init(seconds: Int) {
        self.seconds = seconds
    }

    /// Resolves `zone` to its offset at `instant` (seconds since the Unix epoch).
    /// Throws when `zone` contains a colon but is not a valid offset, or names no known zone.
    init(zone: String, atSecondsSinceEpoch instant: Int64) throws(EvaluationError) {
        if zone == "UTC" {
            self.init(seconds: 0)
        } else if zone.contains(":") {
            // A colon never occurs in IANA names, so this must be a fixed offset (as in cel-go).
            try self.init(fixedOffset: zone)
        } else if let timeZone = TimeZone(identifier: zone) {
            // Exact: Double represents every Int64 within the timestamp range without rounding.
            let date = Date(timeIntervalSince1970: TimeInterval(instant))
            self.init(seconds: timeZone.secondsFromGMT(for: date))
        } else {
            throw EvaluationError("unknown time zone '\(zone)'")
        }
    }

    /// Parses a fixed offset `[+|-]H[H]:MM` (a missing sign means east of UTC), as used both for
    /// CEL time zone arguments and for RFC 3339 timestamp offsets.
    init(fixedOffset text: some StringProtocol) throws(EvaluationError) {
        var rest = Substring(text).utf8[...]
        let isNegative = rest.first == UInt8(ascii: "-")
        if isNegative || rest.first == UInt8(ascii: "+") {
            rest = rest.dropFirst()
        }
        let parts = rest.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              let hours = parts[0].asciiDecimalValue, hours <= 23,
              let minutes = parts[1].asciiDecimalValue, minutes <= 59
        else {
            throw EvaluationError(
                "invalid time zone offset '\(text)': expected [+|-]HH:MM with hours 0-23 and minutes 0-59"
            )
        }
        let magnitude = hours * 3_600 + minutes * 60
        self.init(seconds: isNegative ? -magnitude : magnitude)
    }
}

extension Collection where Element == UInt8 {
    /// The value of a non-empty run of at most 9 ASCII digits (so it fits even a 32-bit `Int`),
    /// or nil if the bytes are anything else. Callers check the exact width they require.
    var asciiDecimalValue: Int? {
        guard (1...9).contains(count) else { return nil }
        var value = 0
        for byte in self {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
