import StepwiseExpressions

/// QStash's flow-control API over the store: what each key reports, an operator's changes, and
/// this node's global parallelism.
extension WorkflowEngine {
    /// What every flow-control key used or set reports now.
    public func flowKeys() async throws -> [FlowKeyReport] {
        try await store.flowKeyReports(now: clock())
    }

    /// What `key` reports now; `nil` for a key never used nor set.
    public func flowKey(_ key: String) async throws -> FlowKeyReport? {
        try await store.flowKeyReport(key, now: clock())
    }

    /// Applies an operator's `change` to `key`; the messages it lets go are looked for at once.
    public func changeFlowKey(_ key: String, _ change: FlowKeyChange) async throws {
        try await store.changeFlowKey(key, change)
        queueChanged()
    }

    /// This node's limit of deliveries in flight at once (`--concurrency`) and how many are.
    public var globalParallelism: (maximum: Int, inFlight: Int) {
        (configuration.maximumConcurrentDeliveries, inFlightCount)
    }
}
