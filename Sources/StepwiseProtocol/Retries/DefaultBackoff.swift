import Foundation

/// QStash's retry delay when a message sets no `Upstash-Retry-Delay`: `min(86400, e^(2.5·n))`
/// seconds for retry number `n` from 1 (12 s, 2 min 28 s, 30 min 8 s, 6 h 7 min, then one day;
/// `qstash/features/retry.mdx`).
public enum DefaultBackoff {
    /// The longest delay, one day.
    public static let maximum = WireDuration.seconds(86_400)

    /// The delay before retry `retry` (1 = first retry); retries below 1 count as 1.
    public static func delay(beforeRetry retry: Int) -> WireDuration {
        let seconds = min(86_400, exp(2.5 * Double(max(1, min(retry, 64)))))
        return WireDuration(milliseconds: Int64(seconds * 1_000))
    }
}
