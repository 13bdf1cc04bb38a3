/// The run a restart from the DLQ starts in place of the entry's (`RunTransitions.restart`).
public enum RestartedRun: Sendable {
    /// A YAML run of its workflow's current version.
    case workflow(RunRecord)
    /// An SDK run, with its log's first entry and its first delivery (`Publication.startRun`).
    case endpoint(RunRecord, initialBody: [UInt8], first: QueuedMessage)
}
