import Synchronization

/// Whether a transaction got its connection before its wait ran out: the first of `begin` (the
/// pool handed a connection over) and `expire` (the wait ended) wins, so a connection handed over
/// just after the wait ended is given back unused rather than used by a caller already answered.
final class ConnectionLease: Sendable {
    private enum State {
        case waiting, began, expired
    }

    private let state = Mutex(State.waiting)

    /// Marks the connection as taken; false when the wait had already ended.
    func begin() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .began
            return true
        }
    }

    /// Ends the wait; false when the connection had already been taken.
    func expire() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .expired
            return true
        }
    }

    /// Whether the connection was taken.
    var began: Bool {
        state.withLock { $0 == .began }
    }
}
