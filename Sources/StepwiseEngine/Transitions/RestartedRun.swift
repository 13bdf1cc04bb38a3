/// The run a restart from the DLQ starts in place of the entry's (`RunTransitions.restart`).
public enum RestartedRun: Sendable {
    /// A YAML run of its workflow's current version.
    case workflow(RunRecord)
    /// An SDK run: the `Publication.startRun` of its trigger.
    case endpoint(Publication)
}
