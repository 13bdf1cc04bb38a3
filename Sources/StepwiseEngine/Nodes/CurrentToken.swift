import Synchronization

/// The API token a node accepts now: the one it resolved at start, then whichever another node
/// stored since (a node started with a new `--token` rotates it for all). The store is read
/// again at most every `interval`, in the background: a request never waits on it, so a
/// database that is down cannot slow `/health` or delay any answer. A failing read keeps the
/// token known.
public final class CurrentToken: Sendable {
    private struct State {
        var token: SharedToken
        var readAt: ContinuousClock.Instant
        var reading = false
    }

    private let state: Mutex<State>
    private let interval: Duration
    private let read: @Sendable () async throws -> SharedToken?

    /// Follows the store with `read`, starting from `token`.
    public init(_ token: SharedToken, interval: Duration = .seconds(5), read: @escaping @Sendable () async throws -> SharedToken?) {
        state = Mutex(State(token: token, readAt: .now))
        self.interval = interval
        self.read = read
    }

    /// A token that never changes (a single server in tests, or a store nobody shares).
    public convenience init(fixed token: SharedToken) {
        self.init(token, interval: .seconds(Int64.max / 4)) { nil }
    }

    /// The token to check a request against: the one known. When it was read longer than
    /// `interval` ago, one read of the store starts beside the request, and what it finds
    /// applies to the requests after it.
    public func current() -> SharedToken {
        let (known, startsRead) = state.withLock { state -> (SharedToken, Bool) in
            guard !state.reading, ContinuousClock.now - state.readAt >= interval else { return (state.token, false) }
            state.reading = true
            return (state.token, true)
        }
        if startsRead { Task { await refresh() } }
        return known
    }

    private func refresh() async {
        let stored = try? await read()
        state.withLock { state in
            if let stored { state.token = stored }
            state.readAt = .now
            state.reading = false
        }
    }
}
