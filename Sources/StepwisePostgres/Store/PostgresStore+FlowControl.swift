import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// QStash's flow-control API and queues on PostgreSQL: `FlowKeyControl` and `NamedQueues`, each
/// change in one transaction, each read in one snapshot.
extension PostgresStore {
    public func expireRateStarts(at now: TimestampValue) async throws -> Int {
        try await write { transaction in try FlowAdmission(transaction).expireStarts(at: PostgresTransaction.at(now)) }
    }

    public func flowKeyReports(now: TimestampValue, search: String?) async throws -> [FlowKeyReport] {
        try await snapshot { session in try FlowKeyControl(PostgresTransaction(session)).reports(now: PostgresTransaction.at(now), search: search) }
    }

    public func flowKeyReport(_ key: String, now: TimestampValue) async throws -> FlowKeyReport {
        try await snapshot { session in try FlowKeyControl(PostgresTransaction(session)).report(key, now: PostgresTransaction.at(now)) }
    }

    public func changeFlowKey(_ key: String, _ change: FlowKeyChange) async throws {
        try await write { transaction in try FlowKeyControl(transaction).apply(change, to: key) }
    }

    public func upsertNamedQueue(_ name: String, parallelism: Int, paused: Bool, at time: TimestampValue) async throws {
        try await write { transaction in
            try NamedQueues(transaction).upsert(name, parallelism: parallelism, paused: paused, at: PostgresTransaction.at(time))
        }
    }

    public func setNamedQueuePaused(_ name: String, paused: Bool, at time: TimestampValue) async throws -> Bool {
        try await write { transaction in try NamedQueues(transaction).setPaused(name, paused, at: PostgresTransaction.at(time)) }
    }

    public func deleteNamedQueue(_ name: String) async throws -> Bool {
        try await write { transaction in try NamedQueues(transaction).delete(name) }
    }

    public func namedQueue(_ name: String) async throws -> NamedQueue? {
        try await snapshot { session in try NamedQueues(PostgresTransaction(session)).queue(name) }
    }

    public func namedQueues() async throws -> [NamedQueue] {
        try await snapshot { session in try NamedQueues(PostgresTransaction(session)).queues() }
    }
}

/// The rows of operators' flow-control state and of QStash's queues.
extension PostgresTransaction: NamedQueueRows {
    func flowKeyState(_ key: String) throws -> FlowKeyState? {
        try session.row("SELECT * FROM flow_keys WHERE key = ?", [key]).map { row in
            func integer(_ column: String) throws -> Int? { try row(column, as: Int64?.self).map { Int(clamping: $0) } }
            return FlowKeyState(
                paused: try row("paused", as: Int64.self) != 0,
                pinned: FlowLimits(
                    parallelism: try integer("pinned_parallelism"), rate: try integer("pinned_rate"), period: try row("pinned_period", as: Int64?.self)))
        }
    }

    func saveFlowKeyState(_ key: String, _ state: FlowKeyState?) throws {
        guard let state else {
            try session.execute("DELETE FROM flow_keys WHERE key = ?", [key])
            return
        }
        try session.execute(
            """
            INSERT INTO flow_keys (key, paused, pinned_parallelism, pinned_rate, pinned_period) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET paused = excluded.paused, pinned_parallelism = excluded.pinned_parallelism,
                pinned_rate = excluded.pinned_rate, pinned_period = excluded.pinned_period
            """,
            [key, Int64(state.paused ? 1 : 0), state.pinned.parallelism.map(Int64.init), state.pinned.rate.map(Int64.init), state.pinned.period])
    }

    func lastLimits(key: String) throws -> FlowLimits? {
        if let spec = try session.value(
            "SELECT spec FROM queue WHERE flow_key = ? ORDER BY created_at DESC, id DESC LIMIT 1", [key], as: String.self)
        {
            return FlowLimits(StoredJSON.decode(QueuedMessage.self, from: spec)?.flowControl, key: key)
        }
        let run = try session.row(
            """
            SELECT concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period FROM runs
            WHERE status = 'running' AND (concurrency_key = ? OR rate_key = ?) ORDER BY created_at DESC LIMIT 1
            """, [key, key])
        return run.map { FlowLimits(PostgresRecords.flowControl($0), key: key) }
    }

    func flowKeys() throws -> [String] {
        try session.values(
            """
            SELECT key FROM flow_keys UNION SELECT flow_key FROM queue WHERE flow_key IS NOT NULL UNION SELECT key FROM rate_starts
            UNION SELECT concurrency_key FROM runs WHERE status = 'running' AND concurrency_key IS NOT NULL
            UNION SELECT rate_key FROM runs WHERE status = 'running' AND rate_key IS NOT NULL
            ORDER BY 1
            """)
    }

    func waitlistSize(key: String) throws -> Int {
        let runs = try session.value(
            """
            SELECT COUNT(*) FROM messages m JOIN runs r ON r.id = m.run_id
            WHERE m.waiting_for_slot = 1 AND (r.concurrency_key = ? OR r.rate_key = ?)
            """, [key, key], as: Int.self) ?? 0
        let queued = try session.value("SELECT COUNT(*) FROM queue WHERE waiting_for_slot = 1 AND flow_key = ?", [key], as: Int.self) ?? 0
        return runs + queued
    }

    func namedQueueTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try times(in: "named_queues", of: name)
    }

    func saveNamedQueue(_ name: String, createdAt: Int64, updatedAt: Int64) throws {
        try saveTimes(in: "named_queues", of: name, createdAt: createdAt, updatedAt: updatedAt)
    }

    /// When the row `name` of `table` (a table of named things: queues, URL groups) was created
    /// and last changed; `nil` when there is none.
    func times(in table: String, of name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try session.row("SELECT created_at, updated_at FROM \(table) WHERE name = ?", [name]).map { row in
            (try row("created_at", as: Int64.self), try row("updated_at", as: Int64.self))
        }
    }

    /// Keeps the row `name` of `table` with these times (an existing row keeps its creation time).
    func saveTimes(in table: String, of name: String, createdAt: Int64, updatedAt: Int64) throws {
        try session.execute(
            "INSERT INTO \(table) (name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
            [name, createdAt, updatedAt])
    }

    func namedQueueNames() throws -> [String] {
        try session.values("SELECT name FROM named_queues ORDER BY name")
    }

    func deleteNamedQueue(_ name: String) throws -> Bool {
        try session.changes("DELETE FROM named_queues WHERE name = ?", [name])
    }

    func queuedCount(flowKey: String) throws -> Int {
        try session.value("SELECT COUNT(*) FROM queue WHERE flow_key = ?", [flowKey], as: Int.self) ?? 0
    }
}
