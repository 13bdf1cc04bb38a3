import PostgresNIO
import Synchronization

/// What became of one transaction's connection: the pool handed it over (`begin`) before the
/// wait ran out (`expire`), or not, whichever came first, so a connection handed over just after
/// the wait ended is given back unused; and a connection whose answers stopped coming is closed
/// (`abandon`), which fails the statement waiting on it, unless the transaction already
/// finished with it (`finish`).
final class ConnectionLease: Sendable {
    private enum State {
        case waiting
        case began(PostgresConnection)
        case expired
        case abandoned
        case finished
    }

    private let state = Mutex(State.waiting)

    /// Takes `connection` for the transaction; false when the wait had already ended.
    func begin(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard case .waiting = state else { return false }
            state = .began(connection)
            return true
        }
    }

    /// Ends the wait for a connection; false when one had already been taken.
    func expire() -> Bool {
        state.withLock { state in
            guard case .waiting = state else { return false }
            state = .expired
            return true
        }
    }

    /// Notes that the transaction is done with its connection, which goes back to the pool and
    /// must then never be closed by this lease.
    func finish() {
        state.withLock { state in
            if case .began = state { state = .finished }
        }
    }

    /// Gives up on the connection taken, returning it to be closed; `nil` when none is in use.
    func abandon() -> PostgresConnection? {
        state.withLock { state in
            guard case .began(let connection) = state else { return nil }
            state = .abandoned
            return connection
        }
    }

    /// Whether a connection was taken (and perhaps abandoned since).
    var began: Bool {
        state.withLock { state in
            switch state {
            case .began, .abandoned, .finished: true
            case .waiting, .expired: false
            }
        }
    }
}
