import Foundation

/// The keys under which a run keeps events that came before its waits (lookback): a kind
/// (`notify`, `webhook`), the event id and the arrival time, so that several early events of one
/// id are kept apart and taken oldest first, and kinds never complete each other's waits.
public enum LookbackKey {
    /// The prefix of every key of `kind` for `eventId`. The id is written with `%` and `:`
    /// percent-encoded, so that no prefix of one event's keys starts another's (`order` and
    /// `order:refunded`).
    public static func prefix(kind: String, eventId: String) -> String {
        kind + ":" + eventId.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A") + ":"
    }

    /// The key of an event of `kind` for `eventId` kept at `nanoseconds` since the epoch: keys of
    /// one event sort by arrival (`salt` tells two of one nanosecond apart).
    public static func key(kind: String, eventId: String, nanoseconds: Int128, salt: UInt32) -> String {
        let time = String(nanoseconds)
        return prefix(kind: kind, eventId: eventId) + String(repeating: "0", count: max(0, 24 - time.count)) + time + "-" + String(salt, radix: 16)
    }
}
