import Synchronization

/// The API token a node accepts now: the one it resolved at start, then whichever another node
/// stored since (a node started with a new `--token` rotates it for all), read again from the
/// store at most every `interval`. A failing read keeps the token known.
public final class CurrentToken: Sendable {
    private let state: Mutex<(token: SharedToken, readAt: ContinuousClock.Instant)>
    private let interval: Duration
    private let read: @Sendable () async throws -> SharedToken?

    /// Follows the store with `read`, starting from `token`.
    public init(_ token: SharedToken, interval: Duration = .seconds(5), read: @escaping @Sendable () async throws -> SharedToken?) {
        state = Mutex((token, ContinuousClock.now))
        self.interval = interval
        self.read = read
    }

    /// A token that never changes (a single server in tests, or a store nobody shares).
    public convenience init(fixed token: SharedToken) {
        self.init(token, interval: .seconds(Int64.max / 4)) { nil }
    }

    /// The token to check a request against.
    public func current() async -> SharedToken {
        let (known, readAt) = state.withLock { $0 }
        guard ContinuousClock.now - readAt >= interval else { return known }
        state.withLock { $0.readAt = ContinuousClock.now }
        guard let stored = try? await read() else { return known }
        state.withLock { $0.token = stored }
        return stored
    }
}
