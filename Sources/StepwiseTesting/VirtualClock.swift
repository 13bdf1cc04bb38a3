import StepwiseExpressions
import Synchronization

/// A clock tests move by hand.
public final class VirtualClock: Sendable {
    private let current: Mutex<TimestampValue>

    /// A clock at `start`.
    public init(_ start: TimestampValue) {
        current = Mutex(start)
    }

    /// A clock at `text` (RFC 3339).
    public static func at(_ text: String = "2026-01-01T00:00:00Z") throws -> VirtualClock {
        VirtualClock(try TimestampValue(parsing: text))
    }

    /// The time it shows.
    public var now: TimestampValue { current.withLock { $0 } }

    /// Moves the clock forward to `instant`; an earlier instant leaves it where it is.
    public func advance(to instant: TimestampValue) {
        current.withLock { if instant > $0 { $0 = instant } }
    }
}
