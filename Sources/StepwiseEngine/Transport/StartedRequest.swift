import AsyncHTTPClient
import StepwiseRuntime
import Synchronization

/// A request that is started later on its event loop, and the task waiting for its answer: the
/// task is resumed once, with the answer or with the cancellation. A cancellation that comes
/// before the start resumes the task at once and the request is never sent; one that comes after
/// cancels the request.
final class StartedRequest: Sendable {
    private struct State {
        var waiting: CheckedContinuation<IncomingResponse, any Error>?
        var task: HTTPClient.Task<IncomingResponse>?
        var canceled = false
    }

    private let state = Mutex(State())

    /// The task waits for the answer through `continuation`; false (and resumed already) when it
    /// was canceled before.
    func wait(with continuation: CheckedContinuation<IncomingResponse, any Error>) -> Bool {
        let canceled = state.withLock { state in
            if !state.canceled { state.waiting = continuation }
            return state.canceled
        }
        if canceled { continuation.resume(throwing: HTTPClientError.cancelled) }
        return !canceled
    }

    /// Starts the request with `start` unless the task was canceled meanwhile; its answer resumes
    /// the task. The start holds the lock: on its loop, the client may write the request before
    /// `start` returns, so a cancellation must come wholly before it or find the started request.
    func start(_ start: () -> HTTPClient.Task<IncomingResponse>) {
        let task: HTTPClient.Task<IncomingResponse>? = state.withLock { state in
            guard !state.canceled else { return nil }
            state.task = start()
            return state.task
        }
        task?.futureResult.whenComplete { result in self.finish(result) }
    }

    /// The task was canceled: it is resumed now if the request has not started, else the request
    /// is canceled and its failure resumes it.
    func cancel() {
        let (task, waiting) = state.withLock { state in
            state.canceled = true
            return state.task == nil ? (nil, state.waiting.take()) : (state.task, nil)
        }
        task?.cancel()
        waiting?.resume(throwing: HTTPClientError.cancelled)
    }

    private func finish(_ result: Result<IncomingResponse, any Error>) {
        state.withLock { $0.waiting.take() }?.resume(with: result)
    }
}
