import Logging
import PostgresNIO
import Synchronization

/// The store's connection pool, replaced by a new one once the database answers again after an
/// outage. PostgresNIO's pool tries to connect again only after a backoff that grows by a quarter
/// with every failed attempt, up to a minute, so after a one-minute outage it went on refusing
/// transactions for about 17 s with the database back; a direct connection every `probeInterval`
/// finds the database within that interval, and a fresh pool has no backoff.
final class PostgresPool: Sendable {
    private struct State {
        var client: PostgresClient
        var running: Task<Void, Never>
        /// Counts the pools made: a transaction refused by a pool already replaced says nothing
        /// of the current one.
        var generation = 0
        /// Transactions holding a connection of `client`: while any does, the pool works and is kept.
        var held = 0
        var probing = false
        var closed = false
    }

    /// The pool a transaction takes its connection from, as it was when the transaction began.
    struct Lending: Sendable {
        let pool: PostgresPool
        let client: PostgresClient
        let generation: Int

        /// Runs `body` with a connection of this pool.
        func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
            try await client.withConnection { connection in
                pool.held(by: generation, +1)
                defer { pool.held(by: generation, -1) }
                return try await body(connection)
            }
        }

        /// Notes that this pool gave the transaction no connection: unless the pool was replaced
        /// since, or a probe is under way already, connects to the database directly every
        /// `probeInterval` until it answers, then replaces the pool if no transaction holds one
        /// of its connections meanwhile (then it works, and is merely busy).
        func gaveNoConnection() {
            pool.probe(after: generation)
        }
    }

    private let state: Mutex<State>
    private let configuration: PostgresClient.Configuration
    private let location: PostgresLocation
    private let probeInterval: Duration
    private let logger: Logger

    init(location: PostgresLocation, configuration: PostgresClient.Configuration, probeInterval: Duration = .seconds(1), logger: Logger) {
        self.location = location
        self.configuration = configuration
        self.probeInterval = probeInterval
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        state = Mutex(State(client: client, running: Self.running(client)))
    }

    /// Runs `client` until it is canceled. Detached: a task made in a service's task (the delivery
    /// loop's transaction that found no connection, a request's) inherits that service's graceful
    /// shutdown, at which `PostgresClient.run` ends, so the pool closed as the node began to stop
    /// and failed the stop's own writes.
    private static func running(_ client: PostgresClient) -> Task<Void, Never> {
        Task.detached { await client.run() }
    }

    /// The current pool, for one transaction.
    func lending() -> Lending {
        state.withLock { Lending(pool: self, client: $0.client, generation: $0.generation) }
    }

    private func held(by generation: Int, _ change: Int) {
        state.withLock { state in
            if state.generation == generation { state.held += change }
        }
    }

    private func probe(after generation: Int) {
        let starts = state.withLock { state in
            guard state.generation == generation, !state.probing, !state.closed else { return false }
            state.probing = true
            return true
        }
        guard starts else { return }
        Task.detached { await self.probeUntilAnswered() }
    }

    /// Stops probing and closes the current pool, waiting for it to finish.
    func close() async {
        let running = state.withLock { state in
            state.closed = true
            return state.running
        }
        running.cancel()
        await running.value
    }

    private func probeUntilAnswered() async {
        while !state.withLock(\.closed) {
            if let connection = try? await location.connect(logger: logger) {
                try? await connection.close()
                await replace()
                return
            }
            try? await Task.sleep(for: probeInterval)
        }
        state.withLock { $0.probing = false }
    }

    private func replace() async {
        let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Self.running(fresh)
        let replaced = state.withLock { state -> Task<Void, Never>? in
            state.probing = false
            guard !state.closed, state.held == 0 else { return nil }
            let old = state.running
            (state.client, state.running, state.generation, state.held) = (fresh, running, state.generation + 1, 0)
            return old
        }
        guard let replaced else {
            running.cancel()
            await running.value
            return
        }
        logger.notice("PostgreSQL answers again: connecting through a new pool (the old one was waiting out its backoff)")
        // Transactions still waiting on the old pool fail as unavailable and are tried again.
        replaced.cancel()
        await replaced.value
    }
}
