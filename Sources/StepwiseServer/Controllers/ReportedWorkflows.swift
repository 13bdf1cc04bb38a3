import Synchronization

/// The workflows `/metrics` reported run counts for at its last scrape, so that the next scrape
/// can remove the series of those that have no run left.
final class ReportedWorkflows: Sendable {
    private let names = Mutex<Set<String>>([])

    /// Records `current` as the workflows reported now, and returns those reported before but not now.
    func replace(with current: Set<String>) -> Set<String> {
        names.withLock { names in
            defer { names = current }
            return names.subtracting(current)
        }
    }
}
