import Foundation
import StepwiseExpressions

/// A clock tests move by hand.
public final class VirtualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: TimestampValue

    public init(_ start: TimestampValue) {
        current = start
    }

    /// A clock at `text` (RFC 3339).
    public static func at(_ text: String = "2026-01-01T00:00:00Z") throws -> VirtualClock {
        VirtualClock(try TimestampValue(parsing: text))
    }

    public var now: TimestampValue { lock.withLock { current } }

    public func advance(to instant: TimestampValue) {
        lock.withLock { if instant > current { current = instant } }
    }
}
