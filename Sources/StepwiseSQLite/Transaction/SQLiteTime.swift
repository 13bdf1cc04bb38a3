import Foundation
import StepwiseEngine
import StepwiseExpressions

/// Times are stored as milliseconds since the Unix epoch, an `INTEGER` every database sorts.
enum SQLiteTime {
    static func milliseconds(_ timestamp: TimestampValue) -> Int64 {
        timestamp.millisecondsSinceEpoch
    }

    /// `timestamp` rounded up to the next millisecond: for due times, so that a message is never
    /// claimed before its time (a sleep never ends early, not even by a fraction of a millisecond).
    static func millisecondsRoundedUp(_ timestamp: TimestampValue) -> Int64 {
        timestamp.millisecondsRoundedUp
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970 * 1000)
    }

    static func timestamp(_ milliseconds: Int64?) -> TimestampValue? {
        milliseconds.flatMap(TimestampValue.init(millisecondsSinceEpoch:))
    }
}
