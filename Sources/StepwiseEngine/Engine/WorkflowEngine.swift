import Crypto
import Foundation
import Logging
import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol
import StepwiseRuntime

/// The orchestrator: starts runs, delivers their due messages to the runner, persists every
/// outcome in the store in one transaction, retries, sleeps without holding a task, and runs
/// `on_failure` once. Acknowledged work is never lost: a crash leaves messages leased, and the
/// lease is released at the next start (or expires, for other nodes).
public actor WorkflowEngine {
    /// Limits and timing of the delivery loop.
    public struct Configuration: Sendable {
        /// Deliveries in flight at once. A delivery that ended its run gives its slot to another
        /// while its commit waits (at most this many such commits wait at once).
        public var maximumConcurrentDeliveries: Int
        /// The default of `maximumConcurrentDeliveries`. A delivery mostly waits (on an HTTP answer,
        /// on its group commit), so more in flight share each fsync: on 2 cores the 200 × 10-step
        /// benchmark reaches 6,380 steps/s with 16 and 7,660 with 64, and no more with 256.
        public static let defaultConcurrentDeliveries = 64
        /// How long a claimed message is reserved for this node unless renewed. The node renews its
        /// leases every quarter of it while it lives, however long a step takes, and gives up a
        /// delivery whose lease went unrenewed this long; another node takes it over a
        /// `takeoverGrace` later (at once when this one restarts on the same host, which sees
        /// that its process is gone).
        public var lease: Duration
        /// The longest the idle loop sleeps before looking at the store again.
        public var maximumIdle: Duration
        /// Multiplies the retry delays of queued messages (QStash's backoff, `Upstash-Retry-Delay`;
        /// an endpoint's `Retry-After` is followed as given), of the `call` steps the engine makes
        /// and of messages the engine could not process (a store error): 1 in production; `0.01`
        /// makes a twice-failing step wait 1.6 s instead of 160 s, for tests and local development.
        /// The runner's `http` steps take the same scale from `WorkflowRunner`.
        public var retryDelayScale: Double
        /// How long one delivery to an endpoint may take when its message sets no `Upstash-Timeout`,
        /// in milliseconds; shorter than the lease, so a slow endpoint is never delivered twice at once.
        public var deliveryTimeoutMilliseconds: Int64
        /// How long QStash's message log (`/v2/events`) keeps an event; older ones are deleted
        /// about once a minute.
        public var messageLogRetention: Duration
        /// How long a run is kept after it ended (succeeded, failed, canceled), with its journal
        /// or log, attempts and DLQ entry; `nil` keeps every run. Older ones are deleted about
        /// once a minute, each when no message of it is still queued.
        public var runRetention: Duration?
        /// How long before a sleep ends the engine may record its end and lease the run's
        /// delivery, due at the end (`RunTransitions.fireSleepsAhead`), so that many sleeps ending
        /// together cost only their deliveries then. The run is never delivered before the end;
        /// its journal shows the end, stamped with the end's time, up to this much earlier.
        /// `.zero` fires every timer when it is due.
        public var sleepLookahead: Duration
        /// When a step delivery or a call's callback goes out empty for an SDK that reads its
        /// run's log itself (`LazyFetch`, QStash's 3 MiB by default); `nil` always sends the body.
        public var lazyFetch: LazyFetch?
        /// How long a stopping loop waits for the deliveries in flight (a slow `http` step, an
        /// endpoint's answer) before it leaves them: they stay leased and are delivered again,
        /// as after a crash (at once by this node's successor on the same host).
        public var shutdownTimeout: Duration

        /// A configuration with the given limits (by default those of production).
        public init(
            maximumConcurrentDeliveries: Int = defaultConcurrentDeliveries, lease: Duration = .seconds(60), maximumIdle: Duration = .seconds(30),
            retryDelayScale: Double = 1, deliveryTimeoutMilliseconds: Int64 = 600_000, messageLogRetention: Duration = .seconds(7 * 86_400),
            sleepLookahead: Duration = .milliseconds(500), runRetention: Duration? = nil, lazyFetch: LazyFetch? = LazyFetch(),
            shutdownTimeout: Duration = .seconds(30)
        ) {
            self.maximumConcurrentDeliveries = maximumConcurrentDeliveries
            self.lease = lease
            self.maximumIdle = maximumIdle
            self.retryDelayScale = retryDelayScale
            self.deliveryTimeoutMilliseconds = deliveryTimeoutMilliseconds
            self.messageLogRetention = messageLogRetention
            self.sleepLookahead = sleepLookahead
            self.runRetention = runRetention
            self.lazyFetch = lazyFetch
            self.shutdownTimeout = shutdownTimeout
        }
    }

    public let store: any Store
    let runner: WorkflowRunner
    let calls: any HTTPTransport
    /// Where queued messages (SDK runs, calls, callbacks, plain messages) are delivered.
    let target: any DeliveryTarget
    let secrets: any SecretSource
    let clock: @Sendable () -> TimestampValue
    let configuration: Configuration
    let owner: String
    let logger: Logger
    /// Where deliveries, commits and the deliveries in flight are measured (`/metrics`).
    let metrics: EngineMetrics
    /// The change feed: what happens to runs on this node, as it happens.
    public nonisolated let events = RunEventHub()
    let wake = WakeSignal()
    var current: [String: WorkflowDefinition] = [:]
    var pinned: [String: WorkflowDefinition] = [:]
    /// Workflows a reload removed, in their last version: a run started before may still `invoke`
    /// one (its definition was validated against them), though no client can start one.
    var retired: [String: WorkflowDefinition] = [:]
    /// The earliest next tick of any schedule, once read from the store (`nil` inside: none).
    var scheduleDue = KnownDueTime.unknown
    /// When `scheduleDue` was read: another node's schedules are seen within `maximumIdle`.
    var scheduleDueReadAt = TimestampValue.epoch
    /// Counts changes to the schedules, so a read that overlapped one is not taken as current.
    var scheduleChanges = 0
    /// The next due time of the QStash queue, so that turns of the loop serving only YAML runs
    /// never ask the store about it; `unknown` after anything that may queue a message, and
    /// `queueDueReadAt` bounds how long a reading is trusted (other nodes write the queue too).
    var queueDue = KnownDueTime.unknown
    /// The delivery bodies of SDK runs' logs, so a delivery encodes only what was appended.
    var encodedLogs = EncodedLogCache()
    /// The redactors of the credentials queued messages forward, for their answers.
    var echoRedactors = EchoRedactorCache()
    var queueDueReadAt = TimestampValue.epoch
    /// Counts `queueChanged()` calls: a reading of the queue taken across one (the engine is an
    /// actor, and others run while the loop awaits the store) is already stale and is not kept.
    var queueChanges = 0
    /// The signing keys as last read or rotated here, and when (`deliveryKey()`).
    var knownKeys: (keys: SigningKeys, readAt: TimestampValue)?
    /// Deliveries in flight, by `m<n>` (the n-th claimed run message: a run's delivery keeps its
    /// message id from step to step, so the id may be claimed again before the task that held it
    /// has ended) and `q<id>` for queued ones.
    private var inFlight: [String: Task<Void, Never>] = [:]
    /// How many deliveries are in flight.
    var inFlightCount: Int { inFlight.count }
    /// How long this node holds the leases it renews, and those given up for it.
    var leaseGuard = LeaseGuard()
    /// The lease each delivery in `inFlight` works under, by its key: what a lease given up
    /// cancels.
    private var inFlightLeases: [String: LeaseGuard.Lease] = [:]
    /// The keys of deliveries in `inFlight` that ended their run and only wait for its commit:
    /// their slots serve other deliveries meanwhile (`freeSlots`).
    private var committingEnds: Set<String> = []
    /// Slots kept for the claim under way (`reserving`).
    private var slotsBeingClaimed = 0
    /// How many run messages were claimed: the keys of `inFlight`.
    private var claims = 0
    /// The messages (`messages` ids, counted: a delivery ending and the next claim of the same id
    /// may overlap) and queued messages being processed now: the leases this node renews. One
    /// whose processing failed is left out, so its lease expires and it is tried again.
    var processing: (messages: [Int64: Int], queued: Set<String>) = ([:], [])
    /// Set when the delivery loop ends: deliveries in flight finish but lease no next delivery.
    var stopping = false
    /// The sleeps fired ahead of their end whose deliveries this node holds.
    var sleepsAhead = SleepsAhead()
    /// The task firing sleeps ahead, while one is under way.
    var sleepsAheadFiring: Task<Void, Never>?
    /// The reads checking that held deliveries whose sleep ended are still held, by number.
    var sleepsAheadChecking: [Int: Task<Void, Never>] = [:]
    /// How many such reads were started: their numbers.
    var sleepChecks = 0

    /// An engine over `store` delivering YAML runs to `runner` and queued messages to `target`
    /// (HTTP by default, through `calls`). `calls` performs `call` steps with secrets from
    /// `secrets` (by default over `AsyncHTTPTransport.deliveryClients`: a refused connection fails
    /// the attempt at once, and the engine's backoff retries it); `owner` names this node in
    /// leases (by default this process, as a `LeaseOwner`).
    public init(
        store: any Store, runner: WorkflowRunner, calls: any HTTPTransport = AsyncHTTPTransport(clients: AsyncHTTPTransport.deliveryClients),
        target: (any DeliveryTarget)? = nil,
        secrets: any SecretSource = EnvironmentSecrets(ProcessInfo.processInfo.environment), owner: String = LeaseOwner.current().description,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "stepwise.engine"),
        metrics: EngineMetrics = EngineMetrics(), clock: @escaping @Sendable () -> TimestampValue = WorkflowEngine.systemTime
    ) {
        self.metrics = metrics
        self.store = store
        self.runner = runner
        self.calls = calls
        self.target = target ?? HTTPDeliveryTarget(transport: calls, defaultTimeout: configuration.deliveryTimeoutMilliseconds, clock: clock)
        self.secrets = secrets
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

    /// Serves `definitions` as the current versions, beside the workflows served already, keeping
    /// every stored earlier version for runs pinned to it.
    public func install(_ definitions: [WorkflowDefinition]) async throws {
        let stored = try await serve(current.merging(definitions.map { ($0.name, $0) }) { $1 })
        // After a restart, a workflow a reload removed is known only from the store: its last
        // stored version is what runs started before the removal invoke.
        for (name, definition) in stored where current[name] == nil && retired[name] == nil { retired[name] = definition }
    }

    /// Serves exactly `definitions` from now on (the workflows folder read again): new runs start
    /// on these versions, a workflow no longer among them starts no more runs (nor do its
    /// schedules tick), and runs already started go on with the versions they are pinned to.
    public func reload(_ definitions: [WorkflowDefinition]) async throws -> WorkflowReload {
        let before = current
        try await serve(Dictionary(definitions.map { ($0.name, $0) }) { $1 })
        for (name, definition) in before where current[name] == nil { retired[name] = definition }
        for name in current.keys { retired[name] = nil }
        return WorkflowReload(before: before, after: current)
    }

    /// Makes `served` the current versions: each is stored and pinned first, and a failure to
    /// store the schedules puts the workflows served before back, so that a reload the store
    /// refused changes nothing a client sees. Returns the last stored version of each workflow.
    @discardableResult
    private func serve(_ served: [String: WorkflowDefinition]) async throws -> [String: WorkflowDefinition] {
        for definition in served.values where pinned[definition.hash] == nil {
            try await store.saveDefinition(StoredDefinition(hash: definition.hash, workflow: definition.name, source: definition.source))
        }
        for definition in served.values { pin(definition) }
        var lastStored: [String: WorkflowDefinition] = [:]
        // Oldest first: a later version of a workflow takes the place of an earlier one.
        for stored in try await store.definitions() {
            if let known = pinned[stored.hash] {
                lastStored[known.name] = known
                continue
            }
            guard let definition = Self.validated(stored) else {
                logger.warning("stored definition \(stored.hash) of \(stored.workflow) no longer validates; its runs cannot continue")
                continue
            }
            pin(definition)
            lastStored[definition.name] = definition
        }
        let before = current
        current = served
        do {
            try await store.saveSchedules(scheduleRecords(), served: Set(current.keys), node: LeaseOwner(parsing: owner)?.node ?? owner)
        } catch {
            current = before
            throw error
        }
        schedulesChanged()
        return lastStored
    }

    /// Keeps `definition` for the runs pinned to its version.
    private func pin(_ definition: WorkflowDefinition) {
        pinned[definition.hash] = definition
        runner.register(definition.workflow, hash: definition.hash)
    }

    /// The workflows served, by name.
    public var workflows: [String: WorkflowDefinition] { current }

    /// Starts a run of `name` with `input`, asked by the client at `callerIp`. With a client's
    /// `runId` (see `RunIdentifier`), starting again returns the same run; an id that belongs to a
    /// run of another workflow is refused, never adopted.
    public func start(
        workflow name: String, input: Value, runId: String? = nil, label: String? = nil, callerIp: String? = nil
    ) async throws(StartError) -> (run: RunRecord, created: Bool) {
        if let runId, let problem = RunIdentifier.clientProblem(runId) { throw .invalidRunId(problem) }
        var record = try newRun(of: name, input: input, id: runId ?? RunIdentifier.fresh(), parent: nil)
        record.label = label
        record.callerIp = callerIp
        let result: (run: RunRecord, created: Bool)
        do {
            result = try await store.createRun(record)
        } catch {
            if let unavailable = StoreUnavailable.meant(by: error) { throw .unavailable(unavailable) }
            throw .storage(String(describing: error))
        }
        guard result.run.workflow == name, result.run.parent == nil else { throw .runIdTaken(record.id) }
        if result.created { announceStart(of: record) }
        return result
    }

    /// Tells the change feed that `run` started, and the delivery loop that it has work.
    func announceStart(of run: RunRecord) {
        events.publish(RunEvent(kind: .started, runId: run.id, workflow: run.workflow, status: .running, at: run.createdAt))
        wake.signal()
    }

    /// The record of a new run of the current version of `name`, its input checked and its
    /// flow-control keys evaluated.
    func newRun(of name: String, input: Value, id: String, parent: (runId: String, step: String)?) throws(StartError) -> RunRecord {
        guard let definition = current[name] ?? (parent == nil ? nil : retired[name]) else { throw .unknownWorkflow(name) }
        let workflow = definition.workflow
        if let schema = workflow.input {
            let problems = InputValidator.problems(of: input, against: schema)
            guard problems.isEmpty else { throw .invalidInput(problems) }
        }
        var flowControl: FlowControl?
        if workflow.concurrency != nil || workflow.rateLimit != nil {
            let keys: FlowControlKeys
            do {
                keys = try FlowControlKeys(workflow: workflow, input: input, runId: id)
            } catch {
                throw .invalidInput(["flow-control key: \(error.message)"])
            }
            flowControl = FlowControl(
                concurrencyKey: keys.concurrency, concurrencyLimit: workflow.concurrency?.limit.value, rateKey: keys.rate,
                rateLimit: workflow.rateLimit?.limit.value,
                ratePeriod: workflow.rateLimit.map { Int64(clamping: $0.period.value.nanoseconds / 1_000_000) })
        }
        let now = clock()
        var run = RunRecord(
            id: id, workflow: name, definitionHash: definition.hash, input: input, createdAt: now, updatedAt: now, parent: parent,
            flowControl: flowControl)
        run.deadline = workflow.timeout.flatMap { try? now.adding($0.value) }
        return run
    }

    /// Cancels a running run and its children: pending messages, timers and waiters are dropped;
    /// a delivery in flight is discarded when it ends. A `reason` (a workflow canceling itself
    /// over the protocol, by its step at `step`) becomes the run's error, as it does for
    /// in-process runs. A run in its `on_failure` handler ends failed instead: the cancel ends
    /// the handler, and its `failure_url` is told.
    public func cancel(runId: String, reason: String? = nil, step: String? = nil) async throws -> Bool {
        let error = reason.map { StepError(message: $0, type: "Canceled", step: step) }
        if let run = try await store.run(id: runId), run.phase == .failureHandler { _ = try? await definition(pinnedBy: run) }
        let canceled = try await store.cancel(runId: runId, reason: error, failureURLs: failureURLs, at: clock())
        if canceled {
            forgetHeldDeliveries(of: [runId])
            runner.forget(runId: runId)
            encodedLogs.forget(runId)
            // Messages that waited behind the run's queued ones, or for their slots, may go.
            queueChanged()
        }
        return canceled
    }

    /// Cancels every running run of `workflow` as `cancel(runId:reason:step:)` does; returns their ids.
    public func cancel(workflow: String) async throws -> [String] {
        let canceled = try await store.cancel(workflow: workflow, failureURLs: failureURLs, at: clock())
        forgetHeldDeliveries(of: canceled)
        for id in canceled { runner.forget(runId: id) }
        if !canceled.isEmpty { queueChanged() }
        return canceled
    }

    /// The `failure_url` of every version this engine knows, by definition hash.
    private var failureURLs: [String: String] {
        pinned.compactMapValues { $0.workflow.failureURL?.value }
    }

    /// Cancels every running SDK run whose workflow URL is `url` (`exactly`) or starts with it;
    /// returns their ids.
    public func cancel(endpoint url: String, exactly: Bool) async throws -> [String] {
        let canceled = try await store.cancel(endpoint: url, exactly: exactly, at: clock())
        if !canceled.isEmpty { queueChanged() }
        return canceled
    }

    /// Delivers `data` to the runs waiting on `event` (only `runId`'s when given; then an event
    /// that arrives before the wait is kept for it). SDK runs receive `body`, the notify's exact
    /// bytes (by default `data` as text or JSON).
    public func notify(event: String, data: Value, body: [UInt8]? = nil, runId: String? = nil) async throws -> NotifyResult {
        let woken = try await wakeEndpointWaits(event: event, body: body ?? EndpointWake.eventBody(data), runId: runId)
        if runId != nil, !woken.isEmpty { return NotifyResult(woken: woken, stored: false) }
        let result = try await store.notify(event: event, data: data, runId: runId, at: clock())
        // Published before the woken runs go on, so that a run's step event never follows its end.
        for id in result.runIds { await publishRecorded(runId: id, step: nil) }
        if !result.woken.isEmpty { wake.signal() }
        return NotifyResult(woken: woken + result.woken, stored: result.stored, refused: result.refused)
    }

    /// Continues a dead-lettered run from its failed step with `options` instead of its own from
    /// now on; `nil` when there is no such entry. Throws `ResumeRefusal` for options a YAML run
    /// cannot take, or a delay or rate period that cannot work.
    public func resume(deadLetter id: String, options: ResumeOptions = ResumeOptions()) async throws -> RunRecord? {
        let now = clock()
        if let refusal = ResumeRefusal(timing: options, at: now) { throw refusal }
        let run = try await store.resume(deadLetter: id, options: options, at: now)
        if let run {
            runner.forget(runId: run.id)
            // Its log's failed entry is now delivered under a new message id.
            encodedLogs.forget(run.id)
        }
        queueChanged()
        return run
    }

    /// Sends the failure callback of a dead-lettered SDK run again, once it has failed for good.
    public func retryFailureCallback(deadLetter id: String) async throws -> FailureCallbackRetry {
        let retry = try await store.retryFailureCallback(deadLetter: id, at: clock())
        queueChanged()
        return retry
    }

    /// Starts a fresh run with the input and label of a dead-lettered run, and `options` instead
    /// of its options, and removes the entry; `nil` when there is no such entry (or another
    /// request took it first). Throws `ResumeRefusal` for options a YAML run cannot take or whose
    /// delay or rate period cannot work, when
    /// its workflow is gone or no longer takes its input, or when an SDK entry keeps nothing to
    /// start from.
    public func restart(deadLetter id: String, options: ResumeOptions = ResumeOptions()) async throws -> RunRecord? {
        if let refusal = ResumeRefusal(timing: options, at: clock()) { throw refusal }
        guard let letter = try await store.deadLetter(id: id), let old = try await store.run(id: letter.runId) else {
            return nil
        }
        if old.endpoint != nil { return try await restartEndpointRun(old, letter: letter, options: options) }
        if let refusal = ResumeRefusal(yamlRun: options) { throw refusal }
        var run: RunRecord
        do {
            run = try newRun(of: old.workflow, input: old.input, id: RunIdentifier.fresh(), parent: nil)
        } catch {
            throw ResumeRefusal(message: "cannot restart '\(id)': \(error.description)")
        }
        run.label = options.label ?? old.label
        run.callerIp = old.callerIp
        guard try await store.restart(deadLetter: id, failedAt: letter.createdAt, as: .workflow(run), at: clock()) else { return nil }
        announceStart(of: run)
        return run
    }

    // MARK: Delivery loop

    /// Delivers due messages until the task is cancelled, then waits for the deliveries in flight
    /// to finish (graceful shutdown). A failing store does not end it: the failure is logged and
    /// the loop tries again after a pause that grows to 30 s.
    public func runDeliveries() async throws {
        stopping = false
        var failures = 0
        var leasesReleased = false
        let renewal = Task { await renewLeases() }
        let guardian = Task { await giveUpLapsedLeases() }
        let watcher = Task { await watchForWork() }
        let expiry = Task { await expireOldRows() }
        defer {
            renewal.cancel()
            guardian.cancel()
            watcher.cancel()
            expiry.cancel()
        }
        while !Task.isCancelled {
            do {
                if !leasesReleased {
                    try await releaseLeasesOfDeadPredecessors()
                    leasesReleased = true
                }
                try await deliveryTurn()
                failures = 0
            } catch {
                // The store's queries throw CancellationError when the loop is cancelled during one:
                // that is a shutdown like any other, and deliveries in flight still finish first.
                if error is CancellationError, Task.isCancelled { break }
                // Anything else (a locked, full or failing database) must not stop the engine:
                // the loop waits, longer each time, and tries again.
                failures += 1
                // At most 5 s apart, so that work resumes soon after the store is back.
                let pause = Duration.seconds(min(5, 1 << min(failures - 1, 3)))
                logger.error("the delivery loop failed (\(error)); trying again in \(pause)")
                try? await Task.sleep(for: pause)
            }
        }
        stopping = true
        // Held deliveries go back first (the ones in flight may take long to finish), from a task
        // of their own: this one is cancelled, and the store refuses cancelled tasks' writes.
        await sleepsAheadFiring?.value
        for check in sleepsAheadChecking.values { await check.value }
        let held = sleepsAhead.takeAll()
        await Task { await release(held) }.value
        await finishDeliveriesInFlight()
        // Leases are renewed until the last delivery ended; then nothing of this loop may still
        // be writing when its caller goes on (`stepwise run` removes its store next), unless a
        // store that stopped answering holds one of them (a shutdown never waits on it for long).
        let helpers = [renewal, guardian, watcher, expiry]
        helpers.forEach { $0.cancel() }
        _ = await LimitedWait.completes(within: .seconds(5)) {
            for task in helpers { await task.value }
        }
    }

    /// Waits for the deliveries in flight, at most `shutdownTimeout` (`LimitedWait`: this task is
    /// cancelled, so its own waits would end at once); those still running are left leased.
    private func finishDeliveriesInFlight() async {
        let running = inFlight
        logger.info("stopping: \(running.count) delivery(ies) in flight, finishing within \(configuration.shutdownTimeout)")
        guard !running.isEmpty else { return }
        let limit = configuration.shutdownTimeout
        let finished = await LimitedWait.completes(within: limit) {
            for task in running.values { await task.value }
        }
        guard !finished else { return }
        let left = inFlight.count
        logger.warning("stopping after \(limit) with \(left) delivery(ies) still in flight; they stay leased and are delivered again (at once by a restart on this host)")
    }

    /// Releases the leases of this node's own name (a restart under a fixed name) and of owners
    /// that certainly died: processes on this host that are gone. Others' leases expire unless
    /// their nodes renew them.
    private func releaseLeasesOfDeadPredecessors() async throws {
        let me = LeaseOwner(parsing: owner)
        let dead = try await store.leaseOwners().filter { holder in
            guard holder != owner else { return true }
            guard let me, let other = LeaseOwner(parsing: holder) else { return false }
            return other.isCertainlyDead(seenFrom: me)
        }
        guard !dead.isEmpty else { return }
        try await store.releaseLeases(owners: dead.sorted())
        logger.info("released the leases of \(dead.count) node(s) that stopped: \(dead.sorted().joined(separator: ", "))")
    }

    /// Looks for work as soon as another node commits some (`Store.watchForWork`), instead of
    /// after the idle timeout; a lost connection is opened again after a pause, which doubles
    /// up to 30 s while listening keeps failing at once (a database that drops idle sessions,
    /// or has no connection to spare), so that the log is not flooded.
    private func watchForWork() async {
        var pause = 1
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await store.watchForWork { [weak self] in
                    Task { await self?.queueChanged() }
                }
                return
            } catch {
                guard !Task.isCancelled else { return }
                if ContinuousClock.now - started > .seconds(60) { pause = 1 }
                logger.warning("notifications of other nodes' work stopped (\(error)); listening again in \(pause) s")
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, 30)
            }
        }
    }

    /// About once a minute, deletes what is kept only for a while, a bounded number per
    /// transaction, so nothing grows without end: the message log's events older than
    /// `messageLogRetention`, rate-limit starts no admission can count any more (a key used
    /// once keeps its starts otherwise), and runs that ended longer than `runRetention` ago.
    private func expireOldRows() async {
        while !Task.isCancelled {
            let before = clock().movedBack(by: configuration.messageLogRetention)
            await expire("old events of the message log") { try await store.expireMessageEvents(before: before) }
            let now = clock()
            await expire("rate-limit starts of ended windows") { try await store.expireRateStarts(at: now) }
            if let retention = configuration.runRetention {
                let cutoff = now.movedBack(by: retention)
                await expire("runs that ended before \(cutoff) (--run-retention)") { try await store.expireEndedRuns(before: cutoff) }
            }
            try? await Task.sleep(for: .seconds(60))
        }
    }

    /// Runs `batch` until it deletes nothing, then logs how many rows went (at info, when any
    /// did); logs a failure, to be tried again at the next turn.
    private func expire(_ what: String, _ batch: () async throws -> Int) async {
        var deleted = 0
        do {
            // A pause between batches leaves the writer to the deliveries during a backlog.
            while !Task.isCancelled {
                let count = try await batch()
                deleted += count
                guard count > 0 else { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            if !Task.isCancelled { logger.error("\(what) could not be deleted (\(error)); trying again in a minute") }
        }
        if deleted > 0 { logger.info("deleted \(deleted) \(what)", metadata: ["deleted": .stringConvertible(deleted)]) }
    }

    /// Renews the leases of the messages in `processing` every quarter of the lease while the
    /// delivery loop runs, so a slow step keeps its message and only a dead node's leases expire.
    private func renewLeases() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.lease / 4)
            guard !Task.isCancelled, !processing.messages.isEmpty || !processing.queued.isEmpty else { continue }
            let asked = ContinuousClock.now
            // A lease given up is left to lapse, so that another node takes it over soon after
            // the store is back.
            let messages = processing.messages.keys.filter { !leaseGuard.abandoned.contains(.message($0)) }.sorted()
            let queued = processing.queued.filter { !leaseGuard.abandoned.contains(.queued($0)) }.sorted()
            guard !messages.isEmpty || !queued.isEmpty else { continue }
            do {
                try await store.renewLeases(owner: owner, messages: messages, queued: queued, until: leaseEnd(from: clock()))
                leaseGuard.renew(messages.map { .message($0) } + queued.map { .queued($0) }, until: asked + configuration.lease)
            } catch {
                logger.error("the leases could not be renewed (\(error)); they expire in \(configuration.lease) unless renewed")
            }
        }
    }

    /// The grace between the end of a lease as its holder counts it and the end the store keeps:
    /// a node cut off from its store gives a delivery up at the first (`LeaseGuard`), another node
    /// takes it over only after the second, so the two never make its request at once. A sixth
    /// of a lease: room for the check's period and for the clocks of two nodes to differ.
    var takeoverGrace: Duration { configuration.lease / 6 }

    /// The end a lease taken or renewed at `time` is stored with: `holding` (the lease by
    /// default) and `takeoverGrace`.
    func leaseEnd(from time: TimestampValue, holding: Duration? = nil) -> TimestampValue {
        time.movedForward(by: (holding ?? configuration.lease) + takeoverGrace)
    }

    /// Gives up the deliveries whose leases lapsed unrenewed (the store cannot be reached): their
    /// requests are cancelled and their outcomes never committed, before another node may take
    /// them over (`takeoverGrace`). Looks 24 times a lease.
    private func giveUpLapsedLeases() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.lease / 24)
            let working = Set(inFlightLeases.values)
            let lapsed = leaseGuard.abandonLapsed(at: .now) { working.contains($0) || renews($0) }
            guard !lapsed.isEmpty else { continue }
            let given = Set(lapsed)
            for (key, lease) in inFlightLeases where given.contains(lease) { inFlight[key]?.cancel() }
            logger.warning(
                "\(lapsed.count) delivery(ies) held leases that lapsed unrenewed (the store cannot be reached): their requests are cancelled and their outcomes dropped, so that the node that delivers them again never makes them twice at once")
        }
    }

    /// Whether this node renews `lease` (it is in `processing`).
    private func renews(_ lease: LeaseGuard.Lease) -> Bool {
        switch lease {
        case .message(let id): processing.messages[id] != nil
        case .queued(let id): processing.queued.contains(id)
        }
    }

    /// Delivery `key` works under `lease`, taken before `asked` (a claim, a commit that leased it):
    /// it holds for a lease from then unless renewed.
    func leaseTaken(_ lease: LeaseGuard.Lease, asked: ContinuousClock.Instant, by key: String) {
        leaseGuard.take(lease, until: asked + configuration.lease)
        inFlightLeases[key] = lease
    }

    /// Delivery `key` goes on with `next`, the run's next delivery leased in the commit (asked at
    /// `asked`) of `message`. The row the commit kept keeps its known end: its lease is only
    /// pushed forward when less than half is left (`KeptLease`), and one given up stays so;
    /// another row was leased anew.
    func nextLeased(_ next: LeasedDelivery?, of message: PendingMessage, asked: ContinuousClock.Instant, by key: String) {
        guard let next else { return }
        guard next.message.id != message.id else { return }
        leaseTaken(.message(next.message.id), asked: asked, by: key)
    }

    /// Fails with `LeaseLapsed` when `lease` was given up (`giveUpLapsedLeases`), or the delivery
    /// was cancelled (given up, or left by a shutdown): what it did is not committed.
    func requireLease(_ lease: LeaseGuard.Lease) throws(LeaseLapsed) {
        if leaseGuard.abandoned.contains(lease) || Task.isCancelled { throw LeaseLapsed() }
    }

    /// Takes one count of message `id` out of the leases this node renews (`processing`).
    func stopRenewing(_ id: Int64) {
        if processing.messages[id] == 1 { processing.messages[id] = nil } else { processing.messages[id]? -= 1 }
    }

    /// One turn of the delivery loop: fire due schedules, claim and start due messages, or wait
    /// for the next due time or new work.
    private func deliveryTurn() async throws {
        try await fireDueSchedules()
        startEndedSleeps()
        let capacity = freeSlots
        guard capacity > 0 else { return await waitForWork(timeout: busyTime()) }
        let claimAsked = ContinuousClock.now
        let claimed = try await reserving(capacity) { try await claim(limit: capacity) }
        for message in claimed {
            start(LeasedDelivery(message: message), leasedAt: claimAsked)
        }
        let queuedCapacity = freeSlots
        let queuedAsked = ContinuousClock.now
        let queued = queuedCapacity > 0 && queueMayBeDue() ? try await reserving(queuedCapacity) { try await claimQueued(limit: queuedCapacity) } : []
        for message in queued {
            inFlight[message.inFlightKey] = Task { await self.deliverQueued(message) }
            leaseTaken(.queued(message.id), asked: queuedAsked, by: message.inFlightKey)
        }
        if !claimed.isEmpty || !queued.isEmpty { metrics.inFlight(inFlight.count) }
        guard claimed.isEmpty && queued.isEmpty else { return }
        let timeout = try await idleTime()
        fireSleepsAheadWhenNear()
        await waitForWork(timeout: timeout)
    }

    /// Runs `claim` with `count` slots kept for what it returns: held deliveries whose check
    /// answers while the claim waits on the store start in the other slots only.
    private func reserving<T>(_ count: Int, _ claim: () async throws -> T) async rethrows -> T {
        slotsBeingClaimed += count
        defer { slotsBeingClaimed -= count }
        return try await claim()
    }

    /// Waits until something signals the loop (new work, a freed slot) or `timeout` passes.
    private func waitForWork(timeout: Duration) async {
        await withTaskCancellationHandler {
            await wake.wait(timeout: timeout)
        } onCancel: { [wake] in
            wake.signal()
        }
    }

    /// How long the loop may wait while every slot is busy: nothing can start until one frees
    /// (which signals the loop), so only a schedule's tick or a held sleep's end, both known
    /// here, need it sooner. Not reading the store here keeps a burst of deliveries from
    /// costing a read per freed slot.
    private func busyTime() -> Duration {
        waitTime(until: [scheduleDue.time, sleepsAhead.nextWake(lookahead: configuration.sleepLookahead, mayFire: false)].compactMap { $0 }.min())
    }

    /// Starts the delivery of `first` (and of the run's next ones) in a slot of its own, after
    /// `prelude` (if any); `leasedAt` is when its claim was asked, `nil` when the lease guard
    /// holds its lease already (a sleep fired ahead).
    func start(_ first: LeasedDelivery, leasedAt: ContinuousClock.Instant?, after prelude: (@Sendable () async -> Void)? = nil) {
        claims += 1
        let key = "m\(claims)"
        inFlight[key] = Task {
            await prelude?()
            await self.deliver(first, key: key)
        }
        let lease = LeaseGuard.Lease.message(first.message.id)
        if let leasedAt { leaseTaken(lease, asked: leasedAt, by: key) } else { inFlightLeases[key] = lease }
    }

    /// Free delivery slots: a delivery that ended its run frees its slot before its commit, as
    /// long as no more are committing than there are slots; a claim under way holds its slots.
    var freeSlots: Int { configuration.maximumConcurrentDeliveries - (inFlight.count - committingEnds.count) - slotsBeingClaimed }

    /// The delivery under `key` ended its run and has no next delivery to make: its slot may
    /// serve another while its commit waits, unless as many ends are committing as there are slots.
    private func commitsEnd(_ key: String) {
        guard committingEnds.count < configuration.maximumConcurrentDeliveries else { return }
        committingEnds.insert(key)
        wake.signal()
    }

    private func claim(limit: Int) async throws -> [PendingMessage] {
        let now = clock()
        let leaseUntil = leaseEnd(from: now)
        return try await store.claimDueMessages(now: now, limit: limit, owner: owner, leaseUntil: leaseUntil, delivering: Set(processing.messages.keys))
    }

    private func claimQueued(limit: Int) async throws -> [QueuedMessage] {
        let now = clock()
        queueDue = .unknown
        return try await store.claimDueQueued(now: now, limit: limit, owner: owner, leaseUntil: leaseEnd(from: now), delivering: processing.queued)
    }

    /// Whether the queue may hold a due message, reading its next due time when not known.
    private func queueMayBeDue() -> Bool {
        let now = clock()
        if now >= queueDueReadAt.movedForward(by: configuration.maximumIdle) { queueDue = .unknown }
        return queueDue.mayBeDue(at: now)
    }

    /// The queue's next due time, from the store when not known.
    private func nextQueuedTime() async throws -> TimestampValue? {
        if case .known(let due) = queueDue, clock() < queueDueReadAt.movedForward(by: configuration.maximumIdle) { return due }
        let changes = queueChanges
        let readAt = clock()
        let due = try await store.nextQueuedTime()
        if changes == queueChanges {
            queueDue = .known(due)
            queueDueReadAt = readAt
        }
        return due
    }

    /// Something may have been queued: the next turn reads the queue. `promptly` wakes the loop
    /// for it; otherwise the turn after the deliveries in flight does.
    func queueChanged(promptly: Bool = true) {
        queueChanges += 1
        queueDue = .unknown
        if promptly { wake.signal() }
    }

    /// What follows a delivery's commit: the runner forgets a run that ended; the delivery is
    /// measured and logged; its events go on the feed.
    /// One warning line for each run that failed (before its `on_failure`, if any, runs), so
    /// that alerting on the log sees YAML runs' failures as it sees SDK runs'.
    private func logFailure(of run: RunRecord, _ error: StepError) {
        logger.warning(
            "run \(run.id) of \(run.workflow) failed\(error.step.map { " at step \($0)" } ?? ""): \(error.type): \(error.message)",
            metadata: [
                "run_id": .string(run.id), "workflow": .string(run.workflow), "step": .string(error.step ?? ""), "outcome": "failed",
                "error_type": .string(error.type),
            ])
    }

    private func committed(_ resolution: DeliveryResolution, of run: RunRecord, message: PendingMessage, completed: Bool) async throws {
        metrics.delivery(
            kind: "run", outcome: resolution.record.outcome, started: resolution.record.startedAt, finished: resolution.record.finishedAt,
            due: message.dueAt)
        logger.debug(
            "delivered run \(run.id): \(resolution.record.outcome)",
            metadata: [
                "run_id": .string(run.id), "workflow": .string(run.workflow),
                "step": .string(resolution.submissions.map(\.stepName).joined(separator: ",")), "outcome": .string(resolution.record.outcome),
            ])
        guard completed else { return }
        if resolution.record.outcome == "failed", let error = resolution.error { logFailure(of: run, error) }
        // A run under flow control is never fired ahead: only a claim may admit its delivery.
        if run.flowControl == nil, let end = resolution.earliestSleepEnd { sleepsAhead.sleepParked(endingAt: end) }
        if resolution.status.isFinal { runner.forget(runId: run.id) }
        publish(resolution, of: run)
    }

    /// The events of a committed delivery: each step it recorded, retried or parked on, and the
    /// run's end.
    private func publish(_ resolution: DeliveryResolution, of run: RunRecord) {
        let at = resolution.record.finishedAt
        for submission in resolution.submissions {
            let kind: RunEvent.Kind
            switch submission {
            case .record: kind = .stepRecorded
            case .plan: continue
            case .park(let operation):
                if case .retry = operation.kind { kind = .retrying } else { kind = .waiting }
            }
            events.publish(RunEvent(kind: kind, runId: run.id, workflow: run.workflow, step: submission.stepName, status: .running, at: at))
        }
        guard resolution.status.isFinal else { return }
        events.publish(RunEvent(kind: .finished, runId: run.id, workflow: run.workflow, status: resolution.status, at: at))
    }

    /// A step of run `runId` was recorded outside a delivery (a timer, an event): published with
    /// the run's workflow, read only when someone follows the feed.
    func publishRecorded(runId: String, step: String?) async {
        guard events.hasSubscribers, let run = try? await store.run(id: runId) else { return }
        events.publish(RunEvent(kind: .stepRecorded, runId: runId, workflow: run.workflow, step: step, status: run.status, at: clock()))
    }

    /// Times a store transaction that commits a delivery's outcome.
    func committing<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { metrics.storeCommit(operation, ContinuousClock.now - start) }
        return try await body()
    }

    /// Marks a delivery finished and lets the loop look for more work.
    func delivered(_ key: String) {
        inFlight[key] = nil
        inFlightLeases[key] = nil
        committingEnds.remove(key)
        metrics.inFlight(inFlight.count)
        wake.signal()
    }

    private func idleTime() async throws -> Duration {
        sleepsAhead.storeNextDue = try await store.nextWakeTime()
        let due = [sleepsAhead.storeNextDue, scheduleDue.time, try await nextQueuedTime(), sleepsAhead.nextWake(lookahead: configuration.sleepLookahead, mayFire: mayFireSleepsAhead)]
            .compactMap { $0 }.min()
        return waitTime(until: due)
    }

    /// The time until `due`, at least a millisecond and at most `maximumIdle`.
    private func waitTime(until due: TimestampValue?) -> Duration {
        guard let wake = due else { return configuration.maximumIdle }
        let nanoseconds = wake.nanosecondsSinceEpoch - clock().nanosecondsSinceEpoch
        guard nanoseconds > 0 else { return .milliseconds(1) }
        return min(configuration.maximumIdle, .nanoseconds(Int64(clamping: nanoseconds)))
    }

    /// The most deliveries of one run made in a row, each leased in the commit of the one before,
    /// before the run goes back to the queue so that other runs get their turn.
    static let consecutiveDeliveries = 64

    private func deliver(_ first: LeasedDelivery, key: String) async {
        var current: LeasedDelivery? = first
        var count = 0
        while let next = current {
            count += 1
            let id = next.message.id
            processing.messages[id, default: 0] += 1
            current = await process(next, key: key, leasingNext: count < Self.consecutiveDeliveries && !stopping)
            stopRenewing(id)
            // Given up, or left by a shutdown: a next delivery leased meanwhile stays leased
            // until its lease ends, and is delivered again then.
            if Task.isCancelled { current = nil }
        }
        delivered(key)
    }

    /// Processes one claimed message; the run's next delivery when it was leased in the same
    /// commit (group commit: a step's completion and the next step's claim cost one fsync).
    private func process(_ delivery: LeasedDelivery, key: String, leasingNext: Bool) async -> LeasedDelivery? {
        let message = delivery.message
        let started = message.claimedAt ?? clock()
        do {
            // A sleep fired ahead may start after its lease lapsed unrenewed.
            try requireLease(.message(message.id))
            switch message.kind {
            case .deliver: return try await deliverRun(delivery, key: key, leasingNext: leasingNext)
            case .timer:
                let next = try await fireTimer(message, key: key, leasingNext: leasingNext)
                metrics.delivery(kind: "timer", outcome: "fired", started: started, finished: clock(), due: message.dueAt)
                return next
            case .call:
                try await performCall(message)
                metrics.delivery(kind: "call", outcome: "made", started: started, finished: clock(), due: message.dueAt)
            }
        } catch where error is LeaseLapsed || Task.isCancelled {
            // Given up (its lease lapsed unrenewed) or left by a shutdown: whichever node claims
            // it next delivers it again.
            metrics.delivery(kind: message.kind.rawValue, outcome: "lease-lapsed", started: started, finished: clock(), due: nil)
        } catch {
            metrics.delivery(kind: message.kind.rawValue, outcome: "error", started: started, finished: clock(), due: nil)
            logger.error(
                "\(message.kind.rawValue) message of run \(message.runId) failed: \(error)",
                metadata: ["run_id": .string(message.runId), "step": .string(message.stepName ?? "-")])
            // If even the retry cannot be stored, the lease expires or the engine restarts, and
            // the message is processed again then.
            let delay = Self.errorRetryDelay(afterAttempt: message.attempt, scale: configuration.retryDelayScale)
            try? await store.reschedule(message, owner: owner, attempt: message.attempt + 1, at: clock().movedForward(by: delay))
        }
        return nil
    }

    /// How long a message the engine could not process (a store error, a version it cannot read)
    /// waits before it is tried again: QStash's backoff, scaled as queued messages' retries are,
    /// never sooner than `shortestErrorRetry` (these retries have no count, and a store that
    /// keeps failing would be retried in a busy loop at scale 0) and never later than
    /// `longestErrorRetry` (a step in its fifth retry, or minutes of a failing disk, put the
    /// next try hours out, long after the store was back).
    static func errorRetryDelay(afterAttempt attempt: Int, scale: Double) -> Duration {
        min(longestErrorRetry, max(shortestErrorRetry, DefaultBackoff.delay(beforeRetry: attempt + 1).scaled(by: scale)))
    }

    /// The shortest wait before a message the engine could not process is tried again.
    static let shortestErrorRetry = Duration.milliseconds(100)
    /// The longest wait before a message the engine could not process is tried again.
    static let longestErrorRetry = Duration.seconds(60)

    private func deliverRun(_ leased: LeasedDelivery, key: String, leasingNext: Bool) async throws -> LeasedDelivery? {
        let message = leased.message
        let startedAt = message.claimedAt ?? clock()
        guard let read = try await runState(for: leased) else {
            logger.error("message \(message.id) names run \(message.runId), which does not exist", metadata: ["run_id": .string(message.runId)])
            return nil
        }
        let run = read.run
        var progress = read.progress
        // The failure handler's walk starts over: it is delivered the whole journal.
        if run.phase != .main, progress.journalBase > 0 { progress = try await store.progress(runId: run.id) }
        let definition = try await definition(pinnedBy: run)
        var resolver = DeliveryResolver(
            run: run, message: message, workflow: definition?.workflow, journalLength: progress.journalBase + progress.journal.count,
            failures: progress.failures, startedAt: startedAt, now: clock())
        var resolution: DeliveryResolution
        if run.status != .running {
            // A delivery a cancel left in flight, claimed again after its node died: the store
            // drops it; nothing of its run is executed.
            resolution = resolver.resolve(.blocked)
        } else if definition == nil {
            // No node can ever deliver it: the run fails now, to the DLQ, instead of its message
            // staying leased and claimed again forever.
            resolution = resolver.resolve(.rejected(
                "version \(run.definitionHash) of workflow '\(run.workflow)', which the run is pinned to, is not in the store"))
        } else if let limit = definition?.workflow.timeout?.value, let deadline = resolver.deadline, resolver.now >= deadline {
            resolution = resolver.timedOut(limit)
        } else {
            var outcome = await runner.deliver(delivery(of: run, progress, deadline: resolver.deadline))
            if outcome == .needsWholeJournal {
                // The runner's state was evicted between the question and the delivery.
                progress = try await store.progress(runId: run.id)
                outcome = await runner.deliver(delivery(of: run, progress, deadline: resolver.deadline))
            }
            resolver.now = clock()
            resolution = resolver.resolve(outcome)
            startChildren(of: run, in: &resolution)
        }
        // A notice to a failure_url is a queued message, and the end of a delivery under a
        // concurrency key frees a slot QStash messages of the same key may wait for: the queue's
        // next due time changed. A notify step may have queued SDK runs' wait results: the queue
        // is read at the loop's next turn, without waking it for every notify.
        defer {
            if !resolution.notices.isEmpty || run.flowControl?.concurrencyKey != nil {
                queueChanged()
            } else if resolution.notifies {
                queueChanged(promptly: false)
            }
        }
        try requireLease(.message(message.id))
        if resolution.status.isFinal { commitsEnd(key) }
        guard leasingNext else {
            let completed = try await committing("complete") { try await store.complete(message, owner: owner, with: resolution) }
            try await committed(resolution, of: run, message: message, completed: completed)
            return nil
        }
        let asked = ContinuousClock.now
        let lease = nextLease(of: run.id)
        let (completed, next) = try await committing("complete") {
            try await store.complete(message, owner: owner, with: resolution, leasingNext: lease)
        }
        nextLeased(next, of: message, asked: asked, by: key)
        try await committed(resolution, of: run, message: message, completed: completed)
        return next
    }

    /// The run and its progress a delivery starts from: as read when it was leased, if the runner's
    /// remembered state still ends where that read began; else read now. A warm runner holds the
    /// journal up to some position: only what follows is read and sent.
    private func runState(for delivery: LeasedDelivery) async throws -> LeasedDelivery.RunState? {
        let warm = runner.warmJournalCount(runId: delivery.message.runId) ?? 0
        if let read = delivery.read, read.progress.journalBase == warm { return read }
        return try await store.runProgress(runId: delivery.message.runId, from: warm)
    }

    /// The lease of a run's next delivery taken in the commit that makes it due, reading the
    /// journal from where the runner's remembered state ends.
    func nextLease(of runId: String) -> NextLease {
        NextLease(until: leaseEnd(from: clock()), journalFrom: runner.warmJournalCount(runId: runId) ?? 0)
    }

    /// The definition `run` is pinned to: one this engine serves or loaded, else the store's (a
    /// version another node deployed since this one started); `nil` when it is nowhere. A stored
    /// version this node cannot read (a newer node's, in a rolling upgrade) is an error: the
    /// message is tried again later, maybe by a node that can.
    public func definition(pinnedBy run: RunRecord) async throws -> WorkflowDefinition? {
        try await definition(version: run.definitionHash)
    }

    /// The version `hash` of a workflow: one this engine serves or loaded, else the store's;
    /// `nil` when it is nowhere (an SDK run's empty hash included).
    public func definition(version hash: String) async throws -> WorkflowDefinition? {
        if let known = pinned[hash] { return known }
        guard !hash.isEmpty, let stored = try await store.definition(hash: hash) else { return nil }
        guard let definition = Self.validated(stored), definition.hash == hash else {
            throw UnreadableDefinition(hash: stored.hash, workflow: stored.workflow)
        }
        pinned[definition.hash] = definition
        runner.register(definition.workflow, hash: definition.hash)
        return definition
    }

    /// A stored definition that still validates, but for rules that bind new versions only.
    private static func validated(_ stored: StoredDefinition) -> WorkflowDefinition? {
        let file = WorkflowFile(path: stored.workflow, source: stored.source)
        guard let workflow = file.workflow, file.runsAsStored else { return nil }
        return WorkflowDefinition(workflow: workflow, source: stored.source)
    }

    private func delivery(of run: RunRecord, _ progress: RunProgress, deadline: TimestampValue?) -> Delivery {
        var delivery = Delivery(
            runId: run.id, workflow: run.workflow, definitionHash: run.definitionHash, journal: progress.journal,
            journalBase: progress.journalBase, startedAt: run.createdAt, pending: progress.pending, failures: progress.failures,
            failure: run.phase == .failureHandler ? run.error : nil)
        delivery.deadline = deadline
        return delivery
    }

    /// Prepares the child runs of `invoke` operations; an invoke that cannot start (unknown
    /// workflow, invalid input) becomes the step's failure.
    private func startChildren(of run: RunRecord, in resolution: inout DeliveryResolution) {
        var children: [String: RunRecord] = [:]
        resolution.submissions = resolution.submissions.map { submission in
            guard case .park(let operation) = submission, case .invoke(let workflow, let input) = operation.kind else { return submission }
            do throws(StartError) {
                let id = RunIdentifier.child(parent: run.id, step: operation.stepName)
                children[operation.stepName] = try newRun(of: workflow, input: input, id: id, parent: (run.id, operation.stepName))
                return submission
            } catch {
                let failure = StepError(message: "cannot invoke '\(workflow)': \(error.description)", type: "InvokeError", step: operation.stepName)
                return .record(operation.entry(out: nil, error: failure))
            }
        }
        resolution.children = children
    }
}
