/// A run's delivery leased in the commit that made it due (`RunTransitions`), with the run as
/// that commit left it: the store reads only the run's progress for it.
public struct TakenDelivery: Sendable {
    public var message: PendingMessage
    public var run: RunRecord
}
