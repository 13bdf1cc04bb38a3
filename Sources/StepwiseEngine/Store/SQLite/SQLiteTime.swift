import Foundation
import StepwiseExpressions

/// Times are stored as milliseconds since the Unix epoch, an `INTEGER` every database sorts.
enum SQLiteTime {
    static func milliseconds(_ timestamp: TimestampValue) -> Int64 {
        Int64(clamping: timestamp.nanosecondsSinceEpoch / 1_000_000)
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970 * 1000)
    }

    static func timestamp(_ milliseconds: Int64?) -> TimestampValue? {
        guard let milliseconds else { return nil }
        return try? TimestampValue(nanosecondsSinceEpoch: Int128(milliseconds) * 1_000_000)
    }
}
