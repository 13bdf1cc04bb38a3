import StepwiseExpressions
import StepwiseProtocol

/// Times as QStash takes them: whole seconds, rounded up, so a sleep, a retry or a timeout never
/// ends early (`Upstash-Not-Before`, `Retry-After`, `Upstash-Timeout`, wait timeouts).
enum QStashTime {
    /// `instant` in unix seconds, rounded up but never past the last second a timestamp names
    /// (which the engine refuses).
    static func notBefore(_ instant: TimestampValue) -> Int64 {
        min(Int64(clamping: (instant.nanosecondsSinceEpoch + 999_999_999) / 1_000_000_000), TimestampValue.latestSecond.secondsSinceEpoch)
    }

    /// `duration` in seconds.
    static func seconds(_ duration: DurationValue) -> Int64 {
        Int64(clamping: (duration.nanoseconds + 999_999_999) / 1_000_000_000)
    }

    /// The time from `start` to `end`, at least nothing.
    static func delay(from start: TimestampValue, to end: TimestampValue) -> WireDuration {
        let nanoseconds = max(0, end.nanosecondsSinceEpoch - start.nanosecondsSinceEpoch)
        return WireDuration(milliseconds: Int64(clamping: (nanoseconds + 999_999_999) / 1_000_000_000) * 1_000)
    }
}
