/// QStash's queues, decided once for every store over `NamedQueueRows`: a queue is a row of its
/// own (name, creation and update times) and a flow-control key whose pinned parallelism and pause
/// are the queue's (`NamedQueue.flowKey(of:)`). Runs inside one transaction of the store's.
public struct NamedQueues<Rows: NamedQueueRows> {
    let rows: Rows

    /// Queues kept through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Creates queue `name` unless it exists: an enqueue to a queue never created makes it, as
    /// QStash does, with the default parallelism (its messages' own limit) and not paused.
    public func ensure(_ name: String, at now: Int64) throws {
        guard try rows.namedQueueTimes(name) == nil else { return }
        try rows.saveNamedQueue(name, createdAt: now, updatedAt: now)
    }

    /// Creates queue `name` or changes its parallelism and pause.
    public func upsert(_ name: String, parallelism: Int, paused: Bool, at now: Int64) throws {
        try rows.saveNamedQueue(name, createdAt: try rows.namedQueueTimes(name)?.createdAt ?? now, updatedAt: now)
        try FlowKeyControl(rows).apply(.pin(FlowLimits(parallelism: parallelism)), paused ? .pause : .resume, to: NamedQueue.flowKey(of: name))
    }

    /// Pauses or resumes queue `name`; false when there is no such queue.
    public func setPaused(_ name: String, _ paused: Bool, at now: Int64) throws -> Bool {
        guard let times = try rows.namedQueueTimes(name) else { return false }
        try rows.saveNamedQueue(name, createdAt: times.createdAt, updatedAt: now)
        try FlowKeyControl(rows).apply(paused ? .pause : .resume, to: NamedQueue.flowKey(of: name))
        return true
    }

    /// Removes queue `name`; false when there is no such queue. Its messages are kept and
    /// delivered without its limits: deleting a queue never drops what was enqueued.
    public func delete(_ name: String) throws -> Bool {
        guard try rows.deleteNamedQueue(name) else { return false }
        try FlowKeyControl(rows).apply(.unpin(parallelism: true, rate: true), .resume, to: NamedQueue.flowKey(of: name))
        return true
    }

    /// Queue `name` as it is now; `nil` when there is no such queue.
    public func queue(_ name: String) throws -> NamedQueue? {
        guard let times = try rows.namedQueueTimes(name) else { return nil }
        let key = NamedQueue.flowKey(of: name)
        let state = try rows.flowKeyState(key) ?? FlowKeyState()
        return NamedQueue(
            name: name, parallelism: state.pinned.parallelism ?? NamedQueue.defaultParallelism, paused: state.paused,
            createdAt: times.createdAt, updatedAt: times.updatedAt, lag: try rows.queuedCount(flowKey: key))
    }

    /// Every queue, by name.
    public func queues() throws -> [NamedQueue] {
        try rows.namedQueueNames().compactMap(queue)
    }
}

/// The rows QStash's queues read and write, beside those of flow control.
public protocol NamedQueueRows: FlowControlRows {
    /// When queue `name` was created and last changed (milliseconds); `nil` when there is none.
    func namedQueueTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)?
    /// Keeps queue `name` with these times.
    func saveNamedQueue(_ name: String, createdAt: Int64, updatedAt: Int64) throws
    /// Every queue's name, in order.
    func namedQueueNames() throws -> [String]
    /// Removes queue `name`'s row; false when there was none.
    func deleteNamedQueue(_ name: String) throws -> Bool
    /// The queued messages counted under `flowKey`, in flight or not.
    func queuedCount(flowKey: String) throws -> Int
}
