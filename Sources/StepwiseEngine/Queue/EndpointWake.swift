/// An SDK run's wait that a YAML `notify` step resolves: the wait, and the publish of its `Wait`
/// result, applied in the transaction that records the notify step (so the step's list of woken
/// runs names exactly the waits it resolved).
public struct EndpointWake: Sendable {
    /// The `notify` step that resolves it.
    public var stepName: String
    /// The wait it resolves.
    public var wait: EndpointWait
    /// The publish of the `Wait` result with the event's data.
    public var publication: Publication

    /// The wake of `wait` by the step `stepName`, publishing `publication`.
    public init(stepName: String, wait: EndpointWait, publication: Publication) {
        self.stepName = stepName
        self.wait = wait
        self.publication = publication
    }
}
