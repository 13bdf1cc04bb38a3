/// Upstash's protocol for steps in parallel groups (§5 of the protocol notes), as `stepwise
/// runner` follows it: a step inside a group is first *planned* (a plan entry in the log), and
/// only the delivery of its plan runs it. Which delivery plans a step is decided from the log
/// alone: the one whose delivered entry is the last result the step's branch replayed on its way
/// there. So every step is planned once and run once however deliveries of a run interleave.
public struct ParallelPlans: Sendable, Equatable {
    /// Steps with a plan in the log but no result yet: in flight elsewhere.
    public var planned: Set<String>
    /// The step whose plan this delivery carries (the log's last entry), to be run now.
    public var target: String?
    /// The journal position of the result this delivery carries (the log's last entry), when it
    /// is one: the steps it enables are planned by this delivery.
    public var deliveredEntry: Int?

    /// The plans of one delivery.
    public init(planned: Set<String>, target: String?, deliveredEntry: Int?) {
        self.planned = planned
        self.target = target
        self.deliveredEntry = deliveredEntry
    }
}
