import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The reads and writes a store offers inside one of its transactions, in the engine's terms.
///
/// What a step kind, an event, a run's end or a resume means is decided once, by
/// `RunTransitions`, over this protocol; a store implements only these row operations on its own
/// tables (SQLite, PostgreSQL), so no step kind's meaning is written in a store's SQL. Every
/// method runs inside the caller's transaction and must not commit. Due times are rounded up to
/// the store's precision, so that nothing becomes due early.
public protocol StoreTransaction: NamedQueueRows, MessageDeadLetterRows, MessageEventRows {
    // MARK: Runs

    /// The run with `id`, if any.
    func run(id: String) throws -> RunRecord?
    /// Inserts the row of a new run (its journal and deliveries are the caller's).
    func insertRun(_ run: RunRecord) throws
    /// Sets a running run's status, phase, output and error, each when given (`nil` keeps it):
    /// an unchanged status is not written, so that its index is left alone.
    func updateRun(id: String, status: RunStatus?, phase: RunPhase?, output: Value?, error: StepError?, at time: TimestampValue) throws
    /// Moves a running run to the final `status`, keeping `output` and `error` when given; false
    /// when it was not running (nothing changes).
    func endRun(id: String, status: RunStatus, output: Value?, error: StepError?, at time: TimestampValue) throws -> Bool
    /// Makes a failed run running again in its main phase, with no output, error or failure
    /// position; its deadline, when it has one, moves to `time` plus its timeout (a resume gets
    /// the whole timeout again). A delivery of the failed run still in flight (a cancel kept it,
    /// `clearPendingWork`) loses its owner but keeps its lease's end: its completion is refused,
    /// it holds its slot until then, and the resumed run's delivery waits for it.
    func reopenRun(id: String, at time: TimestampValue) throws
    /// Sets the label, the run-level options (`RunDefaults`, `nil` for a YAML run) and the
    /// flow-control key it is found by of run `id`, as a resume from the DLQ overrides them; the
    /// labels it is found by follow.
    func setRunOptions(id: String, label: String?, defaults: RunDefaults?, flowControlKey: String?) throws
    /// Remembers the journal's length as where the run's main phase failed, unless already known.
    func markFailurePosition(runId: String) throws
    /// The journal length at which the run's main phase failed, if it did.
    func failurePosition(runId: String) throws -> Int?
    /// The runs started by `runId`'s `invoke` steps that are still pending.
    func childRunIds(of runId: String) throws -> [String]
    /// The running SDK runs that `runId` invoked through `Upstash-Workflow-Invoke`.
    func runningInvokedRuns(of runId: String) throws -> [String]
    /// The run-level options of SDK run `runId`.
    func runDefaults(runId: String) throws -> RunDefaults?

    // MARK: Journal and deliveries of YAML runs

    /// Appends `entry` at the end of the run's journal, numbered by its position.
    func append(runId: String, entry: JournalEntry, at time: TimestampValue) throws
    /// The run's journal with each entry's position (`nil` for an entry that cannot be read).
    func journalRows(runId: String) throws -> [(position: Int, entry: JournalEntry?)]
    /// Removes the entries at `positions` and numbers the rest 0, 1, 2, … again.
    func removeJournalEntries(runId: String, positions: [Int]) throws
    /// Makes sure the run has a delivery due by `dueAt`; one in flight is marked to be delivered
    /// again when it finishes, since it cannot see what changed.
    func deliver(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue) throws
    /// `deliver`, and leases the run's delivery to `owner` until `leaseUntil` when no one holds
    /// it: the message, ready to deliver without a claim, or `nil` when another holds it.
    func deliverLeased(runId: String, attempt: Int, dueAt: TimestampValue, at time: TimestampValue, owner: String, until leaseUntil: TimestampValue)
        throws -> PendingMessage?
    /// Leases to `owner` until `leaseUntil` up to `limit` unleased timers due after `now` and by
    /// `horizon`, earliest first, of sleeps that are all their run waits for: the run has no
    /// other pending operation, no other message (no delivery) and no flow control, so nothing
    /// can deliver it before the sleep's end, and its delivery can be leased with the timer's
    /// fire (`RunTransitions.fireSleepsAhead`).
    func leaseLoneSleepTimers(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, until leaseUntil: TimestampValue)
        throws -> [PendingMessage]
    /// Deletes a claimed message if `owner` still holds it: whether an operation completed while
    /// it was in flight (its run must be delivered again), or `nil` when the lease was lost.
    func take(_ message: PendingMessage, owner: String) throws -> Bool?
    /// Whether `owner` still holds the claimed delivery `message`, which stays: its flag saying
    /// an operation completed while it was in flight, or `nil` when the lease was lost.
    func hold(_ message: PendingMessage, owner: String) throws -> Bool?
    /// Makes the held delivery `message` its run's next one, numbered `attempt`: `kept` (then
    /// returned), it stays with its owner, due at once (`dueAt`, no later than `now`); the row is
    /// written only when its attempt number or redelivery flag changes or its lease ends before
    /// `kept.renewBefore`, and then its lease is pushed to `kept.until`, so that most steps write
    /// neither a lease nor a due time, nor an index of either. Otherwise it is released to any
    /// node's claim, due at `dueAt` (at `now` if a change asked for a delivery meanwhile).
    func redeliver(_ message: PendingMessage, attempt: Int, dueAt: TimestampValue, at now: TimestampValue, kept: KeptLease?) throws
        -> PendingMessage?
    /// Deletes a held message: its run has no next delivery.
    func drop(_ message: PendingMessage) throws
    /// Records a delivery attempt in the run's history.
    func record(_ attempt: AttemptRecord) throws
    /// Drops everything the run still has pending: messages, queued messages, operations, step
    /// failure counts and events kept for it; the queued messages it dropped, oldest first, each
    /// as the drop found it (a claim that leased one first has committed), without its body:
    /// they are only logged. With `keepingDeliveryLeasedAt`, what is leased at that time stays, in
    /// flight until its attempt ends: the run's delivery due then (holding its concurrency slot;
    /// one leased ahead, at a sleep's end, is dropped) and its queued messages (their ends remove
    /// them; until then the run's id is not released).
    func clearPendingWork(runId: String, keepingDeliveryLeasedAt time: TimestampValue?) throws -> [RunQueuedMessage]

    /// The queued messages of run `runId`, oldest first, without their bodies.
    func queuedMessages(runId: String) throws -> [RunQueuedMessage]

    // MARK: Operations (timers, waits, calls, child runs)

    /// Whether the run has a pending operation for `stepName`.
    func hasOperation(runId: String, stepName: String) throws -> Bool
    /// The run's pending operation for `stepName`, if any.
    func operation(runId: String, stepName: String) throws -> StepOperation?
    /// Stores a pending operation, with the event it waits for or the child run it started.
    func insertOperation(_ operation: StepOperation, runId: String, timeoutAt: TimestampValue?, event: String?, child: String?, at time: TimestampValue)
        throws
    /// Queues the timer or call message of `stepName`, due at `dueAt`.
    func addTimer(runId: String, stepName: String, kind: PendingMessage.Kind, dueAt: TimestampValue, at time: TimestampValue) throws
    /// Counts one more failed try of a step being retried.
    func countFailure(runId: String, stepName: String) throws
    /// Removes the pending operation of `stepName`; whether there was one (a concurrent
    /// transaction may have completed it first).
    @discardableResult
    func deleteOperation(runId: String, stepName: String) throws -> Bool
    /// Removes the timer or call messages of `stepName`.
    func deleteStepMessages(runId: String, stepName: String) throws
    /// The pending `invoke` operation of `runId`'s step `stepName` that started `child`.
    func invokeOperation(runId: String, stepName: String, child: String) throws -> StepOperation?
    /// The pending waits on `event` of running YAML runs (`runId`'s only, when given), oldest first.
    func waitingOperations(event: String, runId: String?) throws -> [(runId: String, operation: StepOperation)]
    /// Removes and returns the event kept for run `runId` under the key `event`, if any.
    func takeEvent(runId: String, event: String) throws -> Value?
    /// Keeps `data` for run `runId` under the key `event`, replacing an earlier one.
    func keepEvent(runId: String, event: String, data: Value, at time: TimestampValue) throws
    /// How many events are kept for run `runId` whose key starts with `prefix`.
    func keptEventCount(runId: String, prefix: String) throws -> Int
    /// Removes and returns the event kept for run `runId` whose key, starting with `prefix`,
    /// comes first in order, if any.
    func takeFirstEvent(runId: String, prefix: String) throws -> Value?

    // MARK: Dead letters

    /// The dead-letter entry `id`, if any.
    func deadLetter(id: String) throws -> DeadLetter?
    /// Up to `limit` entries matching `filter` that come after `cursor` (all when `nil`) in the
    /// order newest failure first, ties by id descending: each row's position (failure time and
    /// id) and its entry, `nil` when its run cannot be read.
    func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: DeadLetter?
    )]
    /// Keeps failed run `runId` in the dead-letter queue.
    func addDeadLetter(runId: String, at time: TimestampValue) throws
    /// Keeps with the run's dead-letter entry the SDK message to deliver again on resume, and the
    /// answer of its attempt that failed the run.
    func setDeadLetterMessage(runId: String, message: QueuedMessage, answer: AttemptAnswer?) throws
    /// Keeps with the run's dead-letter entry its failure callback and how it went, if the entry's
    /// callback is still `expected` (its message id and state; none at all when `nil`), so that
    /// two writers who read the same state change it once; false when it was not.
    func setDeadLetterFailureCallback(
        runId: String, _ callback: FailureCallbackRecord, expecting expected: (messageId: String, state: FailureCallbackRecord.State)?
    ) throws -> Bool
    /// Removes dead-letter entry `id`; false when there was none (another transaction removed
    /// it first: on PostgreSQL the second of two waits for the first, then deletes nothing).
    func removeDeadLetter(id: String) throws -> Bool

    // MARK: Retention

    /// Deletes up to `limit` runs that ended (any status but `running`) before
    /// `time` and have no message left in either queue nor a run they started still running,
    /// with every row kept of them (journal or
    /// log, attempts, operations, events, DLQ entry); how many runs it deleted.
    func deleteEndedRuns(before time: TimestampValue, limit: Int) throws -> Int

    /// Deletes run `id` as `deleteEndedRuns` does, if it ended and has no message left in either
    /// queue; whether it did.
    func deleteEndedRun(id: String) throws -> Bool

    // MARK: The QStash queue and SDK runs' logs

    /// Queues `message`.
    func enqueue(_ message: QueuedMessage, at time: TimestampValue) throws
    /// Removes queued message `id`.
    func deleteQueued(id: String) throws
    /// Removes claimed queued message `id` if `owner` still holds it; whether it did.
    func removeQueued(id: String, owner: String) throws -> Bool
    /// The queued message `id` and when it was queued (milliseconds), in flight or not.
    func queuedMessage(id: String) throws -> (message: QueuedMessage, createdAt: Int64)?
    /// The ids of every plain (run-less) queued message, oldest first.
    func plainQueuedIds() throws -> [String]
    /// Removes queued message `id` unless a lease on it runs at `now`; whether it did.
    func deleteQueuedUnlessInFlight(id: String, at now: TimestampValue) throws -> Bool
    /// Gives claimed queued message `id` back as attempt `attempt` due at `dueAt` if `owner` still
    /// holds it; whether it did.
    func retryQueued(id: String, owner: String, attempt: Int, dueAt: TimestampValue) throws -> Bool
    /// Appends `entry` to an SDK run's log; its position.
    func appendLog(runId: String, entry: RawStep, dedupeKey: String?, at time: TimestampValue) throws -> Int
    /// The message id of the log entry at `position`, if any.
    func logMessageId(runId: String, position: Int) throws -> String?
    /// The position of the last entry of an SDK run's log; `nil` for a run without one.
    func lastLogPosition(runId: String) throws -> Int?
    /// The message id of the log entry appended with `dedupeKey`, if any.
    func logMessageId(runId: String, dedupeKey: String) throws -> String?
    /// Names message `newId` as the one that delivers the log entry message `oldId` delivered.
    func relabelLogEntry(runId: String, from oldId: String, to newId: String) throws
    /// Takes deduplication key `key` for message `messageId` published at `time`, unless a message
    /// published at `since` or later holds it; that message's id when one does (then the key is
    /// left as it is). A key held by an older message is taken over.
    func claimDeduplication(key: String, messageId: String, at time: TimestampValue, since: TimestampValue) throws -> String?
    /// Points deduplication key `key` at message `messageId`.
    func setDeduplication(key: String, messageId: String) throws
    /// Deletes deduplication keys taken before `since` (claims ignore them anyway), a bounded
    /// number at a time and none another transaction is deleting.
    func forgetDeduplications(before since: TimestampValue) throws
    /// Stores an SDK run's wait unless one is stored for its step; whether it stored it.
    func insertEndpointWait(_ wait: EndpointWait, timeoutAt: TimestampValue, at time: TimestampValue) throws -> Bool
    /// Removes an SDK run's pending wait; whether there was one.
    func deleteEndpointWait(runId: String, stepKey: String) throws -> Bool
    /// The pending waits on `event` of running SDK runs (`runId`'s only, when given), oldest first.
    func endpointWaits(event: String, runId: String?) throws -> [EndpointWait]

    // MARK: Schedules

    /// The id of a running run of `workflow` whose id starts with `idPrefix` (a schedule entry's
    /// runs), if any.
    func runningRun(workflow: String, idPrefix: String) throws -> String?
    /// Moves a YAML schedule entry from its tick `expected` to `next`; false when it is not at
    /// `expected` any more (another node fired it).
    func advanceSchedule(workflow: String, position: Int, expected: TimestampValue, next: TimestampValue?) throws -> Bool
    /// Moves an active QStash schedule from its tick `expected` to `next`; false when it is not at
    /// `expected` any more or is paused.
    func advanceQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?) throws -> Bool
    /// Remembers the message a QStash schedule's tick queued.
    func setLastMessageId(scheduleId: String, messageId: String) throws
}
