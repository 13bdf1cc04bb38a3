import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Durable state of the engine: definitions, runs, journals, pending messages and operations,
/// waiters and stored events, attempts, the dead-letter queue and schedules.
///
/// Designed for several engine processes sharing one database (PostgreSQL) as well as the
/// embedded SQLite default: due messages are claimed atomically with a lease, every state change
/// is one transaction, and no process-local state is needed to continue another node's work.
public protocol Store: Sendable {
    /// Keeps a definition (idempotent by hash).
    func saveDefinition(_ definition: StoredDefinition) async throws
    /// Every definition kept, each version once.
    func definitions() async throws -> [StoredDefinition]
    /// The definition kept under `hash`, if any: one row, however many versions are kept.
    func definition(hash: String) async throws -> StoredDefinition?

    /// Creates a run with its initial journal entry and first delivery, or returns the existing run
    /// with the same id (idempotent start). `created` tells which.
    func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool)

    /// Leases up to `limit` messages due at `now` to `owner` until `leaseUntil`, oldest first,
    /// honouring flow control: a delivery whose concurrency key is at its limit waits for a slot,
    /// one whose rate key is at its limit is moved to when the window allows it. A message whose
    /// lease expired (its owner died) can be claimed again, unless it is among `delivering` (the
    /// claiming node's own deliveries in flight: a wall clock stepped forward past their leases
    /// must not make the node deliver them twice at once).
    func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<Int64>) async throws
        -> [PendingMessage]

    /// Fires ahead, in one transaction, up to `limit` sleeps ending after `now` and by `horizon`
    /// that are all their run waits for, their runs' deliveries leased to `owner` until
    /// `leaseUntil` and due at each sleep's end (`RunTransitions.fireSleepsAhead`).
    func fireSleepsAhead(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue)
        async throws -> [SleepFiredAhead]

    /// The ids of `messages` that are still leased to `owner` under the same lease (a cancel
    /// deletes a run's messages; a claim after a lease ran out gives a new lease).
    func messagesHeld(_ messages: [PendingMessage], owner: String) async throws -> Set<Int64>

    /// The earliest due time of an unleased message, or of a lease expiry, for the scheduler to sleep until.
    func nextWakeTime() async throws -> TimestampValue?

    /// Extends the lease of a claimed message (a call may take hours) to `until` at least, never
    /// shortening it; false when it was lost.
    func extendLease(_ message: PendingMessage, owner: String, until: TimestampValue) async throws -> Bool

    /// The journal from entry `position` on (a warm runner has the rest), pending operations and
    /// step failures of a run, read together; the cost follows what is read, not the run's length.
    func progress(runId: String, from position: Int) async throws -> RunProgress

    /// A run and its `progress(runId:from:)`, read in one snapshot: what a delivery needs before
    /// it runs; `nil` when the run does not exist.
    func runProgress(runId: String, from position: Int) async throws -> LeasedDelivery.RunState?

    /// Finishes a claimed delivery: applies `resolution` atomically; the delivery's message
    /// becomes the run's next delivery or is deleted. Returns false when the lease was lost
    /// (nothing changes) or the run is no longer running (the stale message is dropped, the run
    /// is left as it is).
    func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool

    /// `complete(_:owner:with:)`, and in the same transaction (one commit for both) leases the
    /// run's next delivery as `lease` says when it is due at once and its run has no flow control;
    /// that delivery, ready to start without a claim or a read of its own.
    func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution, leasingNext lease: NextLease) async throws
        -> (completed: Bool, next: LeasedDelivery?)

    /// Finishes a claimed timer or call: deletes it and the operation, appends `entry` (a retry
    /// timer appends none) and delivers the run again, atomically. False when the lease was lost.
    func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) async throws -> Bool

    /// Fires a claimed timer (`RunTransitions.fireTimer`): a sleep ends, a wait times out or a
    /// retry may go ahead; with `lease`, the run's delivery is leased to `owner` in the same
    /// commit when the run has no flow control, as `complete(_:owner:with:leasingNext:)` does.
    func fireTimer(_ message: PendingMessage, owner: String, leasingNext lease: NextLease?) async throws -> FiredTimer

    /// The stored operation of a run's step, while it is pending.
    func operation(runId: String, stepName: String) async throws -> StepOperation?

    /// Gives a claimed message back, due again at `dueAt` with `attempt` (after a delivery that
    /// could not be finished, or a call to try again), recording `record` in the same commit.
    func reschedule(_ message: PendingMessage, owner: String, attempt: Int, at dueAt: TimestampValue, record: AttemptRecord?) async throws

    /// The owners holding leases now, of messages and queued messages.
    func leaseOwners() async throws -> Set<String>
    /// Releases every lease held by `owners` (at startup: this node's predecessors that died).
    func releaseLeases(owners: [String]) async throws
    /// Moves the leases `owner` holds on `messages` and `queued` (those it is processing) to end
    /// no sooner than `until`: a live node renews its work, so that only a dead node's expires.
    func renewLeases(owner: String, messages: [Int64], queued: [String], until: TimestampValue) async throws

    /// Run `id`, or `nil` when there is none.
    func run(id: String) async throws -> RunRecord?
    /// The runs `filter` selects, newest first, at most its limit.
    func runs(_ filter: RunFilter) async throws -> [RunRecord]
    /// Run `runId`'s whole journal in order: entry 0 is its input.
    func journal(runId: String) async throws -> [JournalEntry]
    /// The delivery attempts of a run made when its journal had at least `position` entries, in order.
    func attempts(runId: String, from position: Int) async throws -> [AttemptRecord]

    /// Wakes the runs waiting on `event` (only `runId`'s when given) with `data`. An event
    /// addressed to a running run that is not waiting yet is kept for its next wait (lookback).
    func notify(event: String, data: Value, runId: String?, at time: TimestampValue) async throws -> NotifyResult
    /// Keeps a webhook call for a run's coming wait (`RunTransitions.keepWebhookCall`).
    func keepWebhookCall(runId: String, eventId: String, request: String, returned: Bool, at time: TimestampValue) async throws -> WebhookOutcome
    /// Removes and returns the first event kept for `runId` under `prefix` (`StoreTransaction.takeFirstEvent`).
    func takeFirstEvent(runId: String, prefix: String) async throws -> Value?
    /// The runs waiting on `event`.
    func waiters(event: String) async throws -> [Waiter]

    /// Cancels a running run and its children: drops their messages, timers and waiters; keeps
    /// `reason` as the run's error when given; false when it was not running. A run in its
    /// `on_failure` handler ends failed instead, its failure URL (`failureURLs`, by definition
    /// hash) told (`RunTransitions.cancel`).
    func cancel(runId: String, reason: StepError?, failureURLs: [String: String], at time: TimestampValue) async throws -> Bool
    /// Cancels every running run of `workflow` as `cancel(runId:reason:failureURLs:at:)` does;
    /// returns their ids.
    func cancel(workflow: String, failureURLs: [String: String], at time: TimestampValue) async throws -> [String]
    /// Cancels every running SDK run whose workflow URL is `url` (`exactly`) or starts with it.
    func cancel(endpoint url: String, exactly: Bool, at time: TimestampValue) async throws -> [String]

    /// One page of the workflow DLQ (`RunTransitions.deadLetters(matching:after:count:)`), read
    /// in one snapshot: newest failure first, and the cursor of the next page.
    func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [DeadLetter], next: PageCursor?
    )
    /// The dead-letter entry `id`, if any.
    func deadLetter(id: String) async throws -> DeadLetter?
    /// Continues a dead-lettered run from its failed step, keeping completed results, with
    /// `options` instead of its own (`RunTransitions.resume`); the run, or `nil` when there is no
    /// such entry.
    func resume(deadLetter id: String, options: ResumeOptions, at time: TimestampValue) async throws -> RunRecord?
    /// Starts `restarted` in place of dead-lettered run `id` (read as failed at `failedAt`),
    /// removing the entry, in one transaction; false when the entry is gone or failed again since
    /// (`RunTransitions.restart`).
    func restart(deadLetter id: String, failedAt: TimestampValue, as restarted: RestartedRun, at time: TimestampValue) async throws -> Bool
    /// Sends the failure callback of a dead-lettered run again (`RunTransitions.retryFailureCallback`).
    func retryFailureCallback(deadLetter id: String, at time: TimestampValue) async throws -> FailureCallbackRetry
    /// Removes a dead-letter entry; the entry, or `nil` when there was none.
    func removeDeadLetter(_ id: String) async throws -> DeadLetter?

    /// Stores the `schedule` entries of the workflows node `node` serves (`served`), replacing
    /// theirs and keeping the next fire time of an entry whose cron and zone did not change (a
    /// restart neither skips nor repeats a tick). Entries of workflows it does not serve are
    /// removed only when this node wrote them (the workflow left its folder); another node's are
    /// left alone, so nodes with different folders (a rolling deploy) do not undo each other.
    func saveSchedules(_ schedules: [ScheduleRecord], served: Set<String>, node: String) async throws
    /// Every workflow schedule kept, with its next fire time.
    func schedules() async throws -> [ScheduleRecord]
    /// Records that the schedule fired its tick `expected` and moves it to `next`, starting `run`
    /// (idempotent by its id) in the same transaction; false when another node already did.
    func fireSchedule(_ schedule: ScheduleRecord, expected: TimestampValue, next: TimestampValue?, run: RunRecord?, skipsOverlaps: Bool)
        async throws -> ScheduleFiring

    /// Stores a QStash schedule, replacing the one with its id (which keeps its creation time).
    func saveQueueSchedule(_ schedule: QueueSchedule) async throws
    /// Every QStash schedule, oldest first.
    func queueSchedules() async throws -> [QueueSchedule]
    /// Removes a QStash schedule; false when there is none with that id.
    func deleteQueueSchedule(id: String) async throws -> Bool
    /// Pauses a QStash schedule, or resumes it with its tick moved to `next`; false when there is
    /// none with that id.
    func setQueueSchedulePaused(id: String, paused: Bool, next: TimestampValue?) async throws -> Bool
    /// Records that schedule `id` fired its tick `expected` and moves it to `next`, applying
    /// `publications` (the tick's message, one per endpoint of a URL group) in the same
    /// transaction; false when another node fired it first, or it was paused, changed or removed
    /// meanwhile.
    func fireQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?, publications: [Publication], at time: TimestampValue)
        async throws -> Bool

    /// The signing keys of deliveries: the stored pair, or `fresh` once stored when there is none
    /// yet (the first node to start decides for all).
    func signingKeys(storingIfAbsent fresh: SigningKeys) async throws -> SigningKeys
    /// Replaces the keys `expected` with `rotated`; the keys stored afterwards (another node's
    /// rotation wins when it came first).
    func rotateSigningKeys(from expected: SigningKeys, to rotated: SigningKeys) async throws -> SigningKeys

    // MARK: The QStash queue and the logs of SDK runs

    /// Applies the publications of one publish or batch request in one transaction, in order,
    /// each deduplicated by its key in `keys` (`MessageDeduplication`; `nil`, or missing, for
    /// none). When one is refused (its run is unknown or ended) nothing is stored and the result
    /// is that refusal alone.
    func publish(_ publications: [Publication], deduplicatedBy keys: [String?], at time: TimestampValue) async throws -> [PublicationResult]

    /// The earliest due time of a queued message, or of a lease expiry.
    func nextQueuedTime() async throws -> TimestampValue?

    /// Leases up to `limit` queued messages due at `now` to `owner` until `leaseUntil`, oldest
    /// first, none of `delivering` (as `claimDueMessages`).
    func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue, delivering: Set<String>) async throws
        -> [QueuedMessage]
    /// Queued message `id` and when it was queued; `nil` when it is not queued (delivered, given
    /// up, canceled, or never).
    func queuedMessage(id: String) async throws -> (message: QueuedMessage, createdAt: TimestampValue)?
    /// The messages of run `runId` still queued (due, in flight or waiting to be retried), in the
    /// order they were queued, without their bodies.
    func queuedMessages(runId: String) async throws -> [QueuedMessage]
    /// Cancels plain queued messages `filter` takes that are not in flight at `time`, in one
    /// transaction (`RunTransitions.cancelPlainMessages`).
    func cancelPlainMessages(ids: [String]?, matching filter: PlainMessageFilter, at time: TimestampValue) async throws -> Int

    /// The log of an SDK run, entries `start...position` (to the end when `nil`).
    func runLog(runId: String, from start: Int, through position: Int?) async throws -> [RawStep]
    /// SDK run `runId`'s whole log, each entry with when it was recorded (unix milliseconds), in
    /// log order.
    func timedRunLog(runId: String) async throws -> [(entry: RawStep, recordedAt: Int64)]
    /// Whether run `runId`'s log holds an entry that message `messageId` delivers, at `position`
    /// when given (found by its key), else anywhere; reads no entry's body.
    func logHolds(runId: String, messageId: String, at position: Int?) async throws -> Bool

    /// Applies what follows an attempt of a claimed queued message; false when the lease was lost
    /// (the run was canceled, or another node took the message), and nothing changes.
    func finishAttempt(_ message: QueuedMessage, owner: String, with followUp: AttemptFollowUp) async throws -> Bool

    /// The run-level options of an SDK run (`RunDefaults`), read without the rest of the run: every
    /// step an SDK publishes needs them.
    func runDefaults(runId: String) async throws -> RunDefaults?

    /// Ends a running SDK run as succeeded (its endpoint's cleanup call) with `output`; the run
    /// afterwards (unchanged when it had already ended), or `nil` when there is none.
    func finishEndpointRun(runId: String, output: Value?, at time: TimestampValue) async throws -> RunRecord?

    /// Parks an SDK run on `wait` with its timeout message; `.stored` with the timeout's id, or
    /// why not (the run is unknown or ended). A second wait on the same step is `.deduplicated`.
    func registerEndpointWait(_ wait: EndpointWait, timeout: QueuedMessage, at time: TimestampValue) async throws -> PublicationResult
    /// The SDK runs waiting on `event` (only `runId`'s when given), oldest first.
    func endpointWaits(event: String, runId: String?) async throws -> [EndpointWait]
    /// Resolves a pending wait with `publication` (its result step) and drops its timeout, in one
    /// transaction; false when the wait was already resolved or its run ended.
    func resolveEndpointWait(_ wait: EndpointWait, with publication: Publication, at time: TimestampValue) async throws -> Bool
    /// Removes and returns the oldest notification of `event` kept for run `runId`'s next wait
    /// (lookback), if any (`StoreTransaction.takeKeptNotification`).
    func takeKeptNotification(runId: String, event: String) async throws -> Value?

    // MARK: Flow control

    /// What every flow-control key in use or set reports at `now`, keeping the keys that contain
    /// `search` when given (`FlowKeyControl.reports`).
    func flowKeyReports(now: TimestampValue, search: String?) async throws -> [FlowKeyReport]
    /// What `key` reports at `now` (nothing set, waiting or counted for a key nothing uses).
    func flowKeyReport(_ key: String, now: TimestampValue) async throws -> FlowKeyReport
    /// Applies an operator's `change` to `key` in one transaction (`FlowKeyControl.apply`).
    func changeFlowKey(_ key: String, _ change: FlowKeyChange) async throws

    // MARK: QStash queues (`NamedQueues`, each in one transaction)

    /// Creates queue `name` or changes its parallelism and pause.
    func upsertNamedQueue(_ name: String, parallelism: Int, paused: Bool, at time: TimestampValue) async throws
    /// Pauses or resumes queue `name`; false when there is no such queue.
    func setNamedQueuePaused(_ name: String, paused: Bool, at time: TimestampValue) async throws -> Bool
    /// Removes queue `name`, keeping its messages; false when there is no such queue.
    func deleteNamedQueue(_ name: String) async throws -> Bool
    /// Queue `name`; `nil` when there is none.
    func namedQueue(_ name: String) async throws -> NamedQueue?
    /// Every queue, by name.
    func namedQueues() async throws -> [NamedQueue]

    // MARK: QStash URL groups (`URLGroups`, each change in one transaction)

    /// Adds `endpoints` to group `name`, creating it.
    func addURLGroupEndpoints(_ endpoints: [URLGroupEndpoint], to name: String, at time: TimestampValue) async throws
    /// Removes endpoints of group `name` by URL or name; false when there is no such group.
    func removeURLGroupEndpoints(urls: [String], names: [String], from name: String, at time: TimestampValue) async throws -> Bool
    /// Removes group `name`; false when there is none.
    func deleteURLGroup(_ name: String) async throws -> Bool
    /// Group `name`; `nil` when there is none.
    func urlGroup(_ name: String) async throws -> URLGroup?
    /// Every group, by name.
    func urlGroups() async throws -> [URLGroup]

    // MARK: The DLQ of plain QStash messages (`MessageDeadLetters`)

    /// A page of entries matching `filter` after `cursor`, newest failure first, and the next
    /// page's cursor (`nil` on the last); `count` is capped at `MessageDeadLetterFilter.maximumPage`.
    func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, count: Int) async throws -> (
        letters: [MessageDeadLetter], next: PageCursor?
    )
    /// Entry `id`; `nil` when there is none.
    func messageDeadLetter(id: String) async throws -> MessageDeadLetter?
    /// Deletes the entries among `ids`, in one transaction; how many there were.
    func removeMessageDeadLetters(ids: [String]) async throws -> Int
    /// Queues each message in place of its entry, all in one transaction; an entry already gone
    /// queues nothing. The ids of the messages queued.
    func retry(messageDeadLetters retries: [(id: String, message: QueuedMessage)], at time: TimestampValue) async throws -> [String]

    // MARK: QStash's message log (`MessageLog`)

    /// A page of events matching `filter` logged before event `before` (from the newest when
    /// `nil`), newest first, and where the next page starts (`nil` on the last); `count` is
    /// capped at `MessageEventFilter.maximumPage`.
    func messageEvents(matching filter: MessageEventFilter, before: Int64?, count: Int) async throws -> (events: [MessageEvent], next: Int64?)
    /// The state of the latest event of each message of `ids` that the log still holds, by id:
    /// one read, however many events each has.
    func latestMessageStates(ids: [String]) async throws -> [String: MessageEvent.State]
    /// The messages of `ids` as their `CREATED` events keep them (`QueuedMessage.shown`, without
    /// their bodies), by id; those the log no longer holds are missing.
    func createdMessages(ids: [String]) async throws -> [String: QueuedMessage]
    /// Deletes up to `MessageLog.expiredPerTransaction` events that happened before `time`, in one
    /// transaction; how many it deleted.
    func expireMessageEvents(before time: TimestampValue) async throws -> Int
    /// Deletes up to `FlowAdmission.startsExpiredPerTransaction` rate-limit starts that no
    /// admission at `now` or later can count (`FlowAdmission.expireStarts`), in one transaction;
    /// how many it deleted.
    func expireRateStarts(at now: TimestampValue) async throws -> Int
    /// Deletes up to `RunTransitions.expiredRunsPerTransaction` runs that ended before `time`
    /// (`RunTransitions.expireEndedRuns`), in one transaction; how many it deleted.
    func expireEndedRuns(before time: TimestampValue) async throws -> Int

    // MARK: Metrics

    /// How many runs each workflow has in each status.
    func runCounts() async throws -> [RunCount]
    /// Messages and queued messages due by `now` and unleased, leased, and due later.
    func messageCounts(at now: TimestampValue) async throws -> MessageCounts
    /// The entries of the DLQ of runs and of the DLQ of plain messages.
    func deadLetterCounts() async throws -> DeadLetterCounts

    // MARK: Several nodes

    /// The API token every node accepts (its digest, the node that stored it, whether explicitly),
    /// after storing `digest` for `node`: always when `replacing` (an explicit token, then marked
    /// so), else when none is stored or `node` stored the one there from its own file. `nil` when
    /// none is stored; `storing: nil` only reads.
    func apiToken(storing digest: String?, node: String, replacing: Bool) async throws -> StoredToken?

    /// Calls `onWork` whenever a commit of any node makes work due (a trigger, a notify, a step's
    /// completion), until the calling task is cancelled; throws when the connection carrying the
    /// notifications is lost. Returns at once for a store no other process shares.
    func watchForWork(_ onWork: @escaping @Sendable () -> Void) async throws

    /// Returns when the store answers a trivial read now (SQLite: and its write lock can be
    /// taken); throws (`StoreUnavailable` when its database cannot be reached, a busy SQLite
    /// error when another process holds the lock) otherwise. `GET /ready` asks it.
    func checkAvailable() async throws
}

extension Store {
    /// Every delivery attempt of a run, in order, the attempts of its `call` steps included
    /// (position -1: the engine made them, not a delivery of the run).
    public func attempts(runId: String) async throws -> [AttemptRecord] {
        try await attempts(runId: runId, from: AttemptRecord.callPosition)
    }

    /// `reschedule(_:owner:attempt:at:record:)` recording nothing.
    public func reschedule(_ message: PendingMessage, owner: String, attempt: Int, at dueAt: TimestampValue) async throws {
        try await reschedule(message, owner: owner, attempt: attempt, at: dueAt, record: nil)
    }

    /// The whole journal, pending operations and step failures of a run.
    public func progress(runId: String) async throws -> RunProgress {
        try await progress(runId: runId, from: 0)
    }
}

extension Store {
    /// Cancels a running run and its children, with no reason given.
    public func cancel(runId: String, at time: TimestampValue) async throws -> Bool {
        try await cancel(runId: runId, reason: nil, at: time)
    }

    /// Cancels a running run and its children; a run in its failure handler ends failed, no
    /// failure URL told.
    public func cancel(runId: String, reason: StepError?, at time: TimestampValue) async throws -> Bool {
        try await cancel(runId: runId, reason: reason, failureURLs: [:], at: time)
    }

    /// A store no other process shares tells nothing: its engine knows its own changes.
    public func watchForWork(_ onWork: @escaping @Sendable () -> Void) async throws {}

    /// Releases every lease held by `owner`.
    public func releaseLeases(owner: String) async throws {
        try await releaseLeases(owners: [owner])
    }

    /// The log of an SDK run, entries `0...position` (all when `nil`).
    public func runLog(runId: String, through position: Int?) async throws -> [RawStep] {
        try await runLog(runId: runId, from: 0, through: position)
    }

    /// Applies publications none of which asks for deduplication.
    public func publish(_ publications: [Publication], at time: TimestampValue) async throws -> [PublicationResult] {
        try await publish(publications, deduplicatedBy: [], at: time)
    }
}

extension Store {
    /// `claimDueMessages` for a node delivering nothing yet.
    public func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [PendingMessage] {
        try await claimDueMessages(now: now, limit: limit, owner: owner, leaseUntil: leaseUntil, delivering: [])
    }

    /// `claimDueQueued` for a node delivering nothing yet.
    public func claimDueQueued(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [QueuedMessage] {
        try await claimDueQueued(now: now, limit: limit, owner: owner, leaseUntil: leaseUntil, delivering: [])
    }
}
