import AsyncHTTPClient
import StepwiseRuntime
import Synchronization

/// Cancels a request that is started later on its event loop: whichever comes second, the
/// request's start or the cancellation of the step's task, cancels it.
final class RequestCancellation: Sendable {
    private struct State {
        var task: HTTPClient.Task<IncomingResponse>?
        var canceled = false
    }

    private let state = Mutex(State())

    /// The request started as `task`; canceled at once when the step's task already was.
    func started(_ task: HTTPClient.Task<IncomingResponse>) {
        let canceled = state.withLock { state in
            state.task = task
            return state.canceled
        }
        if canceled { task.cancel() }
    }

    /// The step's task was canceled: so is its request, now or when it starts.
    func cancel() {
        let task = state.withLock { state in
            state.canceled = true
            return state.task
        }
        task?.cancel()
    }
}
