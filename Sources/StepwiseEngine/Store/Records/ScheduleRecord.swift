import StepwiseExpressions
import StepwiseRuntime

/// A workflow's `schedule` entry as the engine keeps it, with its next fire time.
public struct ScheduleRecord: Sendable, Equatable {
    public var workflow: String
    public var position: Int
    public var cron: String
    public var timeZone: String?
    public var input: Value
    public var nextFireAt: TimestampValue?
    public var lastFireAt: TimestampValue?
    /// The node that stored the entry.
    public var writtenBy: String?

    public init(
        workflow: String, position: Int, cron: String, timeZone: String?, input: Value, nextFireAt: TimestampValue?,
        lastFireAt: TimestampValue? = nil, writtenBy: String? = nil
    ) {
        self.workflow = workflow
        self.position = position
        self.cron = cron
        self.timeZone = timeZone
        self.input = input
        self.nextFireAt = nextFireAt
        self.lastFireAt = lastFireAt
        self.writtenBy = writtenBy
    }
}
