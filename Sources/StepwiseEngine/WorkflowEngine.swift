import Foundation
import Logging
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// The orchestrator: starts runs, delivers their due messages to the runner, persists every
/// outcome in the store in one transaction, retries, sleeps without holding a task, and runs
/// `on_failure` once. Acknowledged work is never lost: a crash leaves messages leased, and the
/// lease is released at the next start (or expires, for other nodes).
public actor WorkflowEngine {
    /// Limits and timing of the delivery loop.
    public struct Configuration: Sendable {
        /// Deliveries in flight at once.
        public var maximumConcurrentDeliveries: Int
        /// How long a claimed message is reserved for this node before another may take it. It
        /// must outlast the longest step (an `http` step may wait for its timeout), or a slow
        /// delivery would be started a second time; a crashed node's leases are released when it
        /// starts again.
        public var lease: Duration
        /// The longest the idle loop sleeps before looking at the store again.
        public var maximumIdle: Duration

        public init(maximumConcurrentDeliveries: Int = 16, lease: Duration = .seconds(900), maximumIdle: Duration = .seconds(30)) {
            self.maximumConcurrentDeliveries = maximumConcurrentDeliveries
            self.lease = lease
            self.maximumIdle = maximumIdle
        }
    }

    public let store: any Store
    private let runner: WorkflowRunner
    private let clock: @Sendable () -> TimestampValue
    private let configuration: Configuration
    private let owner: String
    private let logger: Logger
    private let wake = WakeSignal()
    private var current: [String: WorkflowDefinition] = [:]
    private var pinned: [String: WorkflowDefinition] = [:]
    private var inFlight: [Int64: Task<Void, Never>] = [:]

    public init(
        store: any Store, runner: WorkflowRunner, owner: String = "node-1", configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "stepwise.engine"), clock: @escaping @Sendable () -> TimestampValue = WorkflowEngine.systemTime
    ) {
        self.store = store
        self.runner = runner
        self.owner = owner
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// The current wall-clock time.
    public static let systemTime: @Sendable () -> TimestampValue = {
        let nanoseconds = Int128(Date().timeIntervalSince1970 * 1e9)
        // A system clock outside years 1–9999 is broken; the epoch keeps the engine running.
        return (try? TimestampValue(nanosecondsSinceEpoch: nanoseconds)) ?? .epoch
    }

    /// Serves `definitions` as the current versions, keeping every stored earlier version for
    /// runs pinned to it.
    public func install(_ definitions: [WorkflowDefinition]) async throws {
        for definition in definitions {
            try await store.saveDefinition(StoredDefinition(hash: definition.hash, workflow: definition.name, source: definition.source))
            current[definition.name] = definition
            pinned[definition.hash] = definition
            await runner.register(definition.workflow, hash: definition.hash)
        }
        for stored in try await store.definitions() where pinned[stored.hash] == nil {
            let file = WorkflowFile(path: stored.workflow, source: stored.source)
            guard let workflow = file.workflow, !file.hasErrors else {
                logger.warning("stored definition \(stored.hash) of \(stored.workflow) no longer validates; its runs cannot continue")
                continue
            }
            let definition = WorkflowDefinition(workflow: workflow, source: stored.source)
            pinned[definition.hash] = definition
            await runner.register(workflow, hash: definition.hash)
        }
    }

    /// The workflows served, by name.
    public var workflows: [String: WorkflowDefinition] { current }

    /// Starts a run of `name` with `input`. With a `runId`, starting again returns the same run.
    public func start(workflow name: String, input: Value, runId: String? = nil) async throws(StartError) -> (run: RunRecord, created: Bool) {
        guard let definition = current[name] else { throw .unknownWorkflow(name) }
        if let schema = definition.workflow.input {
            let problems = InputValidator.problems(of: input, against: schema)
            guard problems.isEmpty else { throw .invalidInput(problems) }
        }
        let id = runId ?? "wfr_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let now = clock()
        let record = RunRecord(id: id, workflow: name, definitionHash: definition.hash, input: input, createdAt: now, updatedAt: now)
        do {
            let result = try await store.createRun(record)
            if result.created { wake.signal() }
            return result
        } catch {
            throw .storage(String(describing: error))
        }
    }

    /// Cancels a running run: its pending messages are dropped; a delivery in flight is discarded.
    public func cancel(runId: String) async throws -> Bool {
        let canceled = try await store.cancel(runId: runId, at: clock())
        if canceled { await runner.forget(runId: runId) }
        return canceled
    }

    // MARK: Delivery loop

    /// Delivers due messages until the task is cancelled, then waits for the deliveries in flight
    /// to finish (graceful shutdown).
    public func runDeliveries() async throws {
        try await store.releaseLeases(owner: owner)
        do {
            while !Task.isCancelled {
                let capacity = configuration.maximumConcurrentDeliveries - inFlight.count
                let claimed = capacity > 0 ? try await claim(limit: capacity) : []
                for message in claimed {
                    inFlight[message.id] = Task { await self.deliver(message) }
                }
                if claimed.isEmpty || capacity <= 0 {
                    let timeout = try await idleTime()
                    await withTaskCancellationHandler {
                        await wake.wait(timeout: timeout)
                    } onCancel: { [wake] in
                        wake.signal()
                    }
                }
            }
        } catch {
            // The store's queries throw CancellationError when the loop is cancelled during one:
            // that is a shutdown like any other, and deliveries in flight still finish first.
            for task in inFlight.values { await task.value }
            guard error is CancellationError, Task.isCancelled else { throw error }
            return
        }
        for task in inFlight.values { await task.value }
    }

    private func claim(limit: Int) async throws -> [PendingMessage] {
        let now = clock()
        let leaseUntil = now.movedForward(by: configuration.lease)
        return try await store.claimDueMessages(now: now, limit: limit, owner: owner, leaseUntil: leaseUntil)
    }

    private func idleTime() async throws -> Duration {
        guard let wake = try await store.nextWakeTime() else { return configuration.maximumIdle }
        let nanoseconds = wake.nanosecondsSinceEpoch - clock().nanosecondsSinceEpoch
        guard nanoseconds > 0 else { return .milliseconds(1) }
        return min(configuration.maximumIdle, .nanoseconds(Int64(clamping: nanoseconds)))
    }

    private func deliver(_ message: PendingMessage) async {
        let startedAt = clock()
        do {
            guard let run = try await store.run(id: message.runId), let definition = pinned[run.definitionHash] else {
                logger.error("message \(message.id) names run \(message.runId) or a definition this engine does not know")
                return
            }
            let journal = try await store.journal(runId: run.id)
            var resolver = DeliveryResolver(
                run: run, message: message, workflow: definition.workflow, journalLength: journal.count, startedAt: startedAt, now: clock())
            let resolution: DeliveryResolution
            if let limit = definition.workflow.timeout?.value, run.phase == .main, let deadline = try? run.createdAt.adding(limit),
                resolver.now >= deadline
            {
                resolution = resolver.timedOut(limit)
            } else {
                let outcome = await runner.deliver(Delivery(
                    runId: run.id, workflow: run.workflow, definitionHash: run.definitionHash, journal: journal,
                    startedAt: run.createdAt, attempt: message.attempt, failure: run.phase == .failureHandler ? run.error : nil))
                resolver.now = clock()
                resolution = resolver.resolve(outcome)
            }
            if try await store.complete(message, owner: owner, with: resolution), resolution.status.isFinal {
                await runner.forget(runId: run.id)
            }
        } catch {
            logger.error("delivery of run \(message.runId) failed: \(error)")
            // Try again in a few seconds; if even that cannot be stored, the lease expires or the
            // engine restarts, and the message is delivered again then.
            try? await store.reschedule(message, owner: owner, at: clock().movedForward(by: .seconds(5)))
        }
        inFlight[message.id] = nil
        wake.signal()
    }
}

extension TimestampValue {
    /// This instant plus `duration`, or unchanged when that leaves the representable range.
    func movedForward(by duration: Duration) -> TimestampValue {
        let nanoseconds = Int128(duration.components.seconds) * 1_000_000_000 + Int128(duration.components.attoseconds / 1_000_000_000)
        guard let moved = try? TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + nanoseconds) else { return self }
        return moved
    }
}

/// Why a run could not be started.
public enum StartError: Error, Sendable, Equatable {
    case unknownWorkflow(String)
    case invalidInput([String])
    case storage(String)
}
