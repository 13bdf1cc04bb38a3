import Foundation
import StepwiseExpressions

extension TimestampValue {
    /// The instant as a `Date` (microsecond precision is plenty for the comparisons of these tests).
    public var date: Date { Date(timeIntervalSince1970: Double(nanosecondsSinceEpoch) / 1e9) }

    /// `date` as a timestamp.
    public static func at(_ date: Date) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: Int128(date.timeIntervalSince1970 * 1e9))
    }

    /// This instant moved by `seconds` (negative moves back).
    public func plus(seconds: Double) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + Int128(seconds * 1e9))
    }
}
