import Synchronization

/// The one task that registers a runner's schedules with its orchestrator: started once the
/// server listens, started anew (the one before cancelled) after a reload of the workflows.
final class ScheduleRegistrationLoop: Sendable {
    private struct State {
        var port: Int?
        var task: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Starts `register` for `port` (`nil`: the port given before, if any; else nothing starts),
    /// once the registration under way, cancelled, has ended: a request of the earlier one still
    /// in flight could otherwise create a schedule the new one has just deleted as stale.
    func restart(port: Int?, _ register: @escaping @Sendable (Int) async -> Void) {
        state.withLock { state in
            state.port = port ?? state.port
            guard let port = state.port else { return }
            let earlier = state.task
            earlier?.cancel()
            state.task = Task {
                await earlier?.value
                await register(port)
            }
        }
    }

    /// Cancels the registration under way.
    func cancel() {
        state.withLock { $0.task?.cancel() }
    }
}
