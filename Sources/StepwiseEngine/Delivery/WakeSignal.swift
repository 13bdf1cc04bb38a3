import Synchronization

/// Lets the delivery loop sleep until the next due time *or* until new work arrives, so an idle
/// engine neither polls nor misses a trigger.
final class WakeSignal: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        var pending = false
    }

    private let state = Mutex(State())

    /// Wakes the loop now (or makes its next wait return at once).
    func signal() {
        let continuation: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        continuation?.resume()
    }

    /// Waits until `signal()` or until `timeout` passes, whichever comes first.
    func wait(timeout: Duration) async {
        let sleeper = Task {
            // Cancelled when the wait ended early: signalling then would make the next wait
            // return at once, and the loop would spin on the store instead of sleeping.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.signal()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = state.withLock { state in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        sleeper.cancel()
        state.withLock { $0.pending = false }
    }
}
