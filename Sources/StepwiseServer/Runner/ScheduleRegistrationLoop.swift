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
    /// cancelling the registration under way.
    func restart(port: Int?, _ register: @escaping @Sendable (Int) async -> Void) {
        state.withLock { state in
            state.port = port ?? state.port
            guard let port = state.port else { return }
            state.task?.cancel()
            state.task = Task { await register(port) }
        }
    }

    /// Cancels the registration under way.
    func cancel() {
        state.withLock { $0.task?.cancel() }
    }
}
