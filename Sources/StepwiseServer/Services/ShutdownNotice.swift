import Synchronization

/// Whether a graceful stop has begun: set once on SIGTERM or SIGINT and read by `/ready`, so a
/// load balancer sees the node leaving while it still serves.
public final class ShutdownNotice: Sendable {
    private let begun = Atomic<Bool>(false)

    /// A notice of a stop not yet begun.
    public init() {}

    /// Whether the stop has begun.
    public var hasBegun: Bool { begun.load(ordering: .acquiring) }

    /// Marks the stop as begun; `/ready` answers 503 from now on.
    func begin() { begun.store(true, ordering: .releasing) }
}
