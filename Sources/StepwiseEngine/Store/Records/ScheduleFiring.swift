/// What firing a YAML schedule's tick did.
public enum ScheduleFiring: Sendable, Equatable {
    /// The tick started its run (or had none to start: its input failed the schema).
    case started
    /// The entry skips overlaps and its run `stillRunning` had not ended: no run started.
    case skipped(stillRunning: String)
    /// Another node fired the tick first.
    case taken
}
