import StepwiseExpressions

/// `schedule` entry: a cron expression read in a time zone, the input of the runs it starts, and
/// what a tick does while the entry's previous run is still going.
public struct Schedule: Sendable {
    public var cron: Located<CronExpression>
    public var timeZone: Located<String>?
    public var input: ValueTemplate?
    public var overlap: Overlap = .allow
    public var span: SourceSpan

    /// What a tick does while a run the entry started earlier is still running.
    public enum Overlap: String, Sendable, CaseIterable {
        /// It starts its run anyway: runs longer than the period overlap.
        case allow
        /// It starts nothing (Temporal's default): the next tick tries again.
        case skip
    }
}
