import ArgumentParser
import StepwiseExpressions

/// A duration on the command line, written as in workflows: `250ms`, `90s`, `15m`, `1h30m`, `30d`
/// (a day is 24 h, a week 7 d), or `0s` (each command checks the durations that must be longer).
struct DurationArgument: ExpressibleByArgument {
    let duration: Duration
    private let text: String

    init(_ text: String, _ duration: Duration) {
        self.text = text
        self.duration = duration
    }

    init?(argument: String) {
        guard let value = try? DurationValue(parsing: argument, allowingCalendarUnits: true), value.nanoseconds >= 0, value.nanoseconds <= Int128(Int64.max) else {
            return nil
        }
        self.init(argument, .nanoseconds(Int64(value.nanoseconds)))
    }

    var defaultValueDescription: String { text }
}
