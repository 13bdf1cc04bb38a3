import StepwiseExpressions
import StepwiseRuntime

/// The meaning of every durable change to a run, written once for every store: applying a
/// delivery's resolution, completing a timer or call, ending and canceling runs, waking waits.
///
/// Each function runs inside one transaction of the store (`StoreTransaction`) and returns what
/// the store's API answers; the store only supplies row operations and commits.
public struct RunTransitions<Transaction: StoreTransaction> {
    let transaction: Transaction

    /// Transitions applied through `transaction`.
    public init(_ transaction: Transaction) {
        self.transaction = transaction
    }

    /// Creates `run` with its initial journal entry and first delivery, or returns the existing
    /// run with the same id (idempotent start); `created` tells which.
    public func createRun(_ run: RunRecord) throws -> (run: RunRecord, created: Bool) {
        if let existing = try transaction.run(id: run.id) { return (existing, false) }
        try startRun(run)
        return (run, true)
    }

    /// Finishes a claimed delivery: applies `resolution`, its message becoming the run's next
    /// delivery or deleted; false when the lease was lost or the run is no longer running (then
    /// the stale message is dropped, nothing else).
    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) throws -> Bool {
        try complete(message, owner: owner, with: resolution, leasingNextUntil: nil).completed
    }

    /// `complete(_:owner:with:)`, leasing the run's next delivery to `owner` until `leaseUntil`
    /// when asked (group commit: one commit ends a step and claims the next); that delivery.
    public func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution, leasingNextUntil leaseUntil: TimestampValue?)
        throws -> (completed: Bool, next: TakenDelivery?)
    {
        // The delivery's message stays and becomes the run's next delivery, if there is one: a
        // step then updates one row instead of deleting it and inserting another.
        guard let redeliver = try transaction.hold(message, owner: owner) else { return (false, nil) }
        let found = try transaction.run(id: message.runId)
        guard let run = found, run.status == .running else {
            // A cancel left this delivery in flight holding its slot (`cancel`): it ends now.
            try transaction.drop(message)
            if let found { try releaseSlot(of: found) }
            return (false, nil)
        }
        let now = resolution.record.finishedAt.wholeMilliseconds
        try releaseSlot(of: run)
        var appended = false
        for submission in resolution.submissions {
            appended = try apply(submission, of: run, children: resolution.children, at: now) || appended
        }
        if resolution.error != nil, run.phase == .main { try transaction.markFailurePosition(runId: run.id) }
        try transaction.updateRun(
            id: run.id, status: resolution.status == run.status ? nil : resolution.status, phase: resolution.phase == run.phase ? nil : resolution.phase,
            output: resolution.output, error: resolution.error, at: now)
        let updated = run.updated(status: resolution.status, phase: resolution.phase, output: resolution.output, error: resolution.error, at: now)
        try transaction.record(resolution.record)
        if resolution.status.isFinal {
            try finish(runId: run.id, status: resolution.status, at: now, run: updated)
            for notice in resolution.notices { try enqueue(notice, at: now) }
            return (true, nil)
        }
        if appended || redeliver {
            return (true, try deliverAgain(message, of: updated, attempt: 0, dueAt: now, at: now, leasingUntil: leaseUntil))
        }
        if let next = resolution.next {
            return (true, try deliverAgain(message, of: updated, attempt: next.attempt, dueAt: next.dueAt, at: now, leasingUntil: leaseUntil))
        }
        // The run waits for an operation, unless this very transaction completed one of its
        // operations (a notify step waking a wait of the same run), which asked for a delivery.
        if try transaction.hold(message, owner: owner) == true {
            return (true, try deliverAgain(message, of: updated, attempt: 0, dueAt: now, at: now, leasingUntil: leaseUntil))
        }
        try transaction.drop(message)
        return (true, nil)
    }

    /// Makes the held delivery `message` the run's next one, due at `dueAt`: kept by its owner
    /// and returned when the commit leases it (`lease(of:dueAt:at:until:)`), released to any
    /// node's claim otherwise.
    private func deliverAgain(
        _ message: PendingMessage, of run: RunRecord, attempt: Int, dueAt: TimestampValue, at now: TimestampValue, leasingUntil leaseUntil: TimestampValue?
    ) throws -> TakenDelivery? {
        let kept = Self.lease(of: run, dueAt: dueAt, at: now, until: leaseUntil).map { KeptLease(until: $0, at: now) }
        guard var next = try transaction.redeliver(message, attempt: attempt, dueAt: dueAt, at: now, kept: kept), kept != nil else { return nil }
        next.claimedAt = now
        return TakenDelivery(message: next, run: run)
    }

    /// Finishes a claimed timer or call: deletes it and its operation, appends `entry` (a retry
    /// timer appends none) and delivers the run again; false when the lease was lost.
    public func completeOperation(_ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?) throws -> Bool {
        try completeOperation(message, owner: owner, entry: entry, record: record, leasingNextUntil: nil).completed
    }

    /// A claimed timer is due: a sleep ends (its `until` is recorded), a wait times out (its
    /// result without data), or a retry may go ahead (nothing is recorded); the run is delivered
    /// again, its delivery leased to `owner` until `leaseUntil` when asked, so that it goes on at
    /// once rather than after every other timer due at that moment.
    public func fireTimer(_ message: PendingMessage, owner: String, leasingNextUntil leaseUntil: TimestampValue?) throws
        -> (completed: Bool, recorded: Bool, next: TakenDelivery?)
    {
        // An event or a child's end may have completed the operation meanwhile: only the timer is left.
        let operation = try message.stepName.flatMap { try transaction.operation(runId: message.runId, stepName: $0) }
        let entry: JournalEntry? =
            switch operation?.kind {
            case .sleep(let until): operation?.entry(out: ["until": .string(until.description)])
            case .wait: operation?.entry(out: StepOperation.waitResult(data: nil))
            default: nil
            }
        let (completed, next) = try completeOperation(message, owner: owner, entry: entry, record: nil, leasingNextUntil: leaseUntil)
        return (completed, completed && entry != nil, next)
    }

    /// Fires ahead of their end up to `limit` sleeps that end after `now` and by `horizon` and are
    /// all their run waits for (`StoreTransaction.leaseLoneSleepTimers`). Each sleep's end is
    /// recorded as of its due time and the run's next delivery is made due then too, leased to
    /// `owner` until `leaseUntil`: the node that holds it delivers it at the sleep's end, and if
    /// that node dies, no other node can claim it any earlier. Returns every sleep fired.
    public func fireSleepsAhead(after now: TimestampValue, dueBy horizon: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue)
        throws -> [SleepFiredAhead]
    {
        try transaction.leaseLoneSleepTimers(after: now, dueBy: horizon, limit: limit, owner: owner, until: leaseUntil).map { timer in
            SleepFiredAhead(timer: timer, delivery: try fireTimer(timer, owner: owner, leasingNextUntil: leaseUntil).next?.message)
        }
    }

    private func completeOperation(
        _ message: PendingMessage, owner: String, entry: JournalEntry?, record: AttemptRecord?, leasingNextUntil leaseUntil: TimestampValue?
    ) throws -> (completed: Bool, next: TakenDelivery?) {
        guard try transaction.take(message, owner: owner) != nil, let stepName = message.stepName else { return (false, nil) }
        guard let run = try transaction.run(id: message.runId), run.status == .running else { return (false, nil) }
        let now = (record?.finishedAt ?? message.dueAt).wholeMilliseconds
        // An event or a child's end that completed the operation meanwhile recorded its result.
        let pending = try transaction.deleteOperation(runId: run.id, stepName: stepName)
        if let entry, pending { try transaction.append(runId: run.id, entry: entry, at: now) }
        if let record { try transaction.record(record) }
        return (true, try deliver(run, attempt: 0, dueAt: now, at: now, owner: owner, leasingUntil: leaseUntil))
    }

    /// Until when the commit that makes `run`'s next delivery due at `dueAt` leases it (group
    /// commit), if asked to (`leaseUntil`): only a delivery due at once, and never for a run with
    /// flow control, whose limits only a claim applies.
    private static func lease(of run: RunRecord, dueAt: TimestampValue, at now: TimestampValue, until leaseUntil: TimestampValue?) -> TimestampValue? {
        dueAt <= now && run.flowControl == nil ? leaseUntil : nil
    }

    /// Makes `run`'s next delivery due at `dueAt`, leased to `owner` in the same commit and
    /// returned when the commit leases it (`lease(of:dueAt:at:until:)`) and no one holds it.
    private func deliver(_ run: RunRecord, attempt: Int, dueAt: TimestampValue, at now: TimestampValue, owner: String, leasingUntil leaseUntil: TimestampValue?)
        throws -> TakenDelivery?
    {
        guard let leaseUntil = Self.lease(of: run, dueAt: dueAt, at: now, until: leaseUntil) else {
            try transaction.deliver(runId: run.id, attempt: attempt, dueAt: dueAt, at: now)
            return nil
        }
        guard var next = try transaction.deliverLeased(runId: run.id, attempt: attempt, dueAt: dueAt, at: now, owner: owner, until: leaseUntil) else {
            return nil
        }
        next.claimedAt = now
        return TakenDelivery(message: next, run: run)
    }

    /// Cancels a running run (and, through `finish`, its children), keeping `reason` as its error;
    /// false when it was not running. A delivery of the run in flight is left to end (its request
    /// is not stopped), holding its concurrency slot until then, so that a cancel never lets
    /// more deliveries run at once than the run's `concurrency` allows.
    /// A run in its `on_failure` handler is not canceled: the cancel ends the handler, as a
    /// `cancel` step in it does, and the run stays failed (`endFailureHandler`), its
    /// `failure_url` (of `failureURLs`, by definition hash) told.
    public func cancel(runId: String, reason: StepError? = nil, failureURLs: [String: String] = [:], at time: TimestampValue) throws -> Bool {
        guard let run = try transaction.run(id: runId), run.status == .running else { return false }
        if run.phase == .failureHandler { return try endFailureHandler(of: run, failureURLs: failureURLs, at: time) }
        guard try transaction.endRun(id: runId, status: .canceled, output: nil, error: reason, at: time) else { return false }
        try releaseSlot(of: run)
        try finish(runId: runId, status: .canceled, at: time, keepingDeliveryInFlight: Self.holdsSlots(run), failureURLs: failureURLs)
        return true
    }

    /// Cancels each of `runIds` that is running (`cancel(runId:reason:failureURLs:at:)`); the
    /// ones it canceled or whose failure handler it ended.
    public func cancel(runIds: [String], failureURLs: [String: String] = [:], at time: TimestampValue) throws -> [String] {
        try runIds.filter { try cancel(runId: $0, failureURLs: failureURLs, at: time) }
    }

    /// Ends `run`'s `on_failure` handler from outside: the run ends failed with the error that
    /// started the handler, lands in the DLQ, and its failure URL (of `failureURLs`) is told, as
    /// when the handler ends.
    private func endFailureHandler(of run: RunRecord, failureURLs: [String: String], at time: TimestampValue) throws -> Bool {
        guard try transaction.endRun(id: run.id, status: .failed, output: nil, error: nil, at: time) else { return false }
        try releaseSlot(of: run)
        try finish(runId: run.id, status: .failed, at: time, keepingDeliveryInFlight: Self.holdsSlots(run), failureURLs: failureURLs)
        if let failureURL = failureURLs[run.definitionHash], let error = run.error {
            try enqueue(FailureNotice.message(for: run, error: error, url: failureURL, now: time), at: time)
        }
        return true
    }

    /// Ends a run that reached a final status: drops what it still had pending, cancels its
    /// children (not the SDK runs a failed SDK run invoked), completes its parent's `invoke` (or
    /// reports to the SDK run that invoked it), and
    /// keeps it in the dead-letter queue when it failed. `ended` is the run as this transaction
    /// left it, when the caller has it, so that it is not read again; `keepingDeliveryInFlight`:
    /// a YAML run's delivery leased now stays until it ends (a run ended from outside it), as an
    /// SDK run's deliveries in flight always do; the children it cancels that are in their
    /// failure handlers tell `failureURLs` (by hash).
    func finish(
        runId: String, status: RunStatus, at now: TimestampValue, run ended: RunRecord? = nil, keepingDeliveryInFlight: Bool = false,
        failureURLs: [String: String] = [:]
    ) throws {
        let run = try ended ?? transaction.run(id: runId)
        let children = try transaction.childRunIds(of: runId)
        // An SDK endpoint may still publish for the run from a delivery in flight: the run's id
        // stays taken until that delivery ends.
        try dropPendingWork(of: runId, keepingInFlight: keepingDeliveryInFlight || run?.endpoint != nil, at: now)
        for child in children { _ = try cancel(runId: child, failureURLs: failureURLs, at: now) }
        if status == .failed { try transaction.addDeadLetter(runId: runId, at: now) }
        // A failed SDK run leaves the runs it invoked running, as Upstash does: their ends go to its
        // log (`reportToInvoker`), so that a resume from the DLQ goes on from them.
        if status != .failed {
            for child in try transaction.runningInvokedRuns(of: runId) { _ = try cancel(runId: child, failureURLs: failureURLs, at: now) }
        }
        guard let run else { return }
        if let invoker = run.invoker { return try reportToInvoker(invoker, of: run, status: status, at: now) }
        guard let parent = run.parent,
            let operation = try transaction.invokeOperation(runId: parent.runId, stepName: parent.step, child: runId)
        else { return }
        var result = ValueMap([("status", .string(status.rawValue)), ("output", run.output ?? .null), ("run_id", .string(run.id))])
        if let error = run.error { result[.string("error")] = error.value }
        try resolve(runId: parent.runId, operation: operation, entry: operation.entry(out: .map(result)), at: now)
    }

    /// Drops what run `runId` still has pending (`StoreTransaction.clearPendingWork`), what is in
    /// flight at `now` too unless `keepingInFlight`; logs the queued messages that never went out
    /// as canceled and frees the slots the dropped ones held.
    func dropPendingWork(of runId: String, keepingInFlight: Bool, at now: TimestampValue) throws {
        let dropped = try transaction.clearPendingWork(runId: runId, keepingDeliveryLeasedAt: keepingInFlight ? now : nil)
        try ended(dropped, loggingCanceled: dropped.filter { !$0.isInFlight(at: now) }.compactMap(\.message), at: now)
    }

    /// Logs `canceled` as canceled and frees the slots `dropped` held: queued messages may hold
    /// slots, or stand before others in a queue, and what waits under their keys may go once they
    /// are gone.
    func ended(_ dropped: [RunQueuedMessage], loggingCanceled canceled: [QueuedMessage], at now: TimestampValue) throws {
        try logCanceled(canceled, at: now)
        for key in Set(dropped.compactMap(\.flowKey)).sorted() { try transaction.releaseSlot(key: key) }
    }

    /// Logs the end of `messages`, which their run's end dropped before their delivery (an SDK
    /// wait's timeout, which the engine resolves itself, was never logged).
    private func logCanceled(_ messages: [QueuedMessage], at now: TimestampValue) throws {
        for message in messages where message.role != .waitTimeout {
            try transaction.appendMessageEvent(MessageEvent(.canceled, of: message, at: now.millisecondsSinceEpoch))
        }
    }

    /// Completes a pending operation from outside (an event, a child run's end): appends its
    /// entry, drops its timer, delivers the run; false when a concurrent transaction completed it
    /// first (another notify, its timeout), so that its result is recorded once.
    @discardableResult
    func resolve(runId: String, operation: StepOperation, entry: JournalEntry, at now: TimestampValue) throws -> Bool {
        guard try transaction.deleteOperation(runId: runId, stepName: operation.stepName) else { return false }
        try transaction.deleteStepMessages(runId: runId, stepName: operation.stepName)
        try transaction.append(runId: runId, entry: entry, at: now)
        try transaction.deliver(runId: runId, attempt: 0, dueAt: now, at: now)
        return true
    }

    /// Whether `run`'s deliveries hold concurrency slots. Only then is a leased delivery always
    /// one in flight: a run with flow control has no delivery leased ahead (at a sleep's end, or
    /// by the commit of its last step), which a cancel must drop so that it never runs.
    static func holdsSlots(_ run: RunRecord) -> Bool {
        run.flowControl?.concurrencyKey != nil
    }

    /// A delivery of `run` ended: the deliveries waiting for a slot of its key may try again.
    func releaseSlot(of run: RunRecord) throws {
        guard let key = run.flowControl?.concurrencyKey else { return }
        try transaction.releaseSlot(key: key)
    }
}

extension TimestampValue {
    /// This time without its fraction of a millisecond: the times a transition writes are whole
    /// milliseconds, so a delivery due "now" is due by the same instant its claim compares with.
    var wholeMilliseconds: TimestampValue {
        TimestampValue(millisecondsSinceEpoch: millisecondsSinceEpoch) ?? self
    }
}
