import Foundation

/// Lets the delivery loop sleep until the next due time *or* until new work arrives, so an idle
/// engine neither polls nor misses a trigger.
final class WakeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var waiter: CheckedContinuation<Void, Never>?
    private var pending = false

    /// Wakes the loop now (or makes its next wait return at once).
    func signal() {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            guard let waiter else {
                pending = true
                return nil
            }
            self.waiter = nil
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
            let resumeNow: Bool = lock.withLock {
                if pending {
                    pending = false
                    return true
                }
                waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        sleeper.cancel()
        lock.withLock { pending = false }
    }
}
