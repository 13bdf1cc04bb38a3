import StepwiseExpressions

/// QStash's flow-control API and queues over the store: what each key reports, an operator's
/// changes, queues created, changed and removed, and this node's global parallelism.
extension WorkflowEngine {
    /// What every flow-control key in use or set reports now; `search` keeps the keys containing it.
    public func flowKeys(search: String? = nil) async throws -> [FlowKeyReport] {
        try await store.flowKeyReports(now: clock(), search: search)
    }

    /// What `key` reports now (nothing set, waiting or counted for a key nothing uses).
    public func flowKey(_ key: String) async throws -> FlowKeyReport {
        try await store.flowKeyReport(key, now: clock())
    }

    /// Applies an operator's `change` to `key`; the messages it lets go are looked for at once.
    public func changeFlowKey(_ key: String, _ change: FlowKeyChange) async throws {
        try await store.changeFlowKey(key, change)
        queueChanged()
    }

    /// Creates QStash queue `name` or changes its parallelism and pause; what it lets go is looked
    /// for at once.
    public func upsertQueue(_ name: String, parallelism: Int, paused: Bool) async throws {
        try await store.upsertNamedQueue(name, parallelism: parallelism, paused: paused, at: clock())
        queueChanged()
    }

    /// Pauses or resumes QStash queue `name`; false when there is no such queue.
    public func setQueuePaused(_ name: String, paused: Bool) async throws -> Bool {
        let found = try await store.setNamedQueuePaused(name, paused: paused, at: clock())
        queueChanged()
        return found
    }

    /// Removes QStash queue `name`; its messages are still delivered, without its limits. False
    /// when there is no such queue.
    public func deleteQueue(_ name: String) async throws -> Bool {
        let found = try await store.deleteNamedQueue(name)
        queueChanged()
        return found
    }

    /// This node's limit of deliveries in flight at once (`--concurrency`) and how many are.
    public var globalParallelism: (maximum: Int, inFlight: Int) {
        (configuration.maximumConcurrentDeliveries, inFlightCount)
    }
}
