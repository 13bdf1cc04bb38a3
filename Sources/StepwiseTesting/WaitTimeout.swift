import StepwiseEngine
import StepwiseRuntime

/// A wait that did not see its condition before its deadline.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let description: String

    /// A timeout described by `description`.
    public init(description: String) {
        self.description = description
    }
}

/// Polls `probe` every `interval` until it returns a value, for at most `limit`. The default is
/// generous: with every suite running at once on 2 cores, four deliveries of 300 ms one after
/// another took 9 to 15 s (a full `swift test`, session 36), against 1 s alone; tests state what
/// happens, and benchmarks how fast.
public func eventually<T>(
    _ what: String, within limit: Duration = .seconds(60), every interval: Duration = .milliseconds(20),
    _ probe: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while true {
        if let value = try await probe() { return value }
        guard clock.now < deadline else { throw WaitTimeout(description: "gave up after \(limit) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// The run once it has ended (succeeded, failed or canceled). The default wait is long because
/// the whole suite runs at once on two cores, where a run of many steps over HTTP can take a while.
public func finishedRun(_ id: String, in store: any Store, within limit: Duration = .seconds(45)) async throws -> RunRecord {
    try await eventually("run \(id) to end", within: limit) {
        guard let run = try await store.run(id: id), run.status.isFinal else { return nil }
        return run
    }
}

/// The run's journal once it holds at least `count` entries (the initial entry included).
public func journal(of id: String, in store: any Store, reaching count: Int) async throws -> [JournalEntry] {
    try await eventually("the journal of run \(id) to reach \(count) entries") {
        let journal = try await store.journal(runId: id)
        return journal.count >= count ? journal : nil
    }
}

/// Waits until the step `step` of run `id` is parked with the engine (sleeping, waiting, calling).
public func parked(_ id: String, _ step: String, in store: any Store) async throws {
    _ = try await eventually("step \(step) of run \(id) to be parked") {
        try await store.progress(runId: id).pending.contains(step) ? true : nil
    }
}
