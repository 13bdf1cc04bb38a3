import StepwiseProtocol
import StepwiseExpressions
import StepwiseRuntime

/// What each kind of submitted step means durably, and events waking the runs that wait for them.
extension RunTransitions {
    /// Applies one submitted step of `run`; whether it appended an entry to the run's journal
    /// (then the run is delivered again at once).
    func apply(_ submission: StepSubmission, of run: RunRecord, children: [String: RunRecord], at now: TimestampValue) throws -> Bool {
        let operation: StepOperation
        switch submission {
        case .record(let entry):
            try transaction.append(runId: run.id, entry: entry, at: now)
            return true
        case .plan:
            // Only the protocol runner plans steps; in process there is nothing to record.
            return false
        case .park(let parked):
            operation = parked
        }
        if try transaction.hasOperation(runId: run.id, stepName: operation.stepName) { return false }
        switch operation.kind {
        case .sleep(let until):
            try park(operation, of: run, timer: .timer, dueAt: until, at: now)
        case .retry(let at, _):
            try transaction.countFailure(runId: run.id, stepName: operation.stepName)
            try park(operation, of: run, timer: .timer, dueAt: at, at: now)
        case .wait(let event, let timeoutAt):
            if let stored = try transaction.takeKeptNotification(runId: run.id, event: event) {
                try transaction.append(runId: run.id, entry: operation.entry(out: StepOperation.waitResult(data: stored)), at: now)
                return true
            }
            try park(operation, of: run, timer: .timer, dueAt: timeoutAt, timeoutAt: timeoutAt, event: event, at: now)
        case .call:
            try park(operation, of: run, timer: .call, dueAt: now, at: now)
        case .invoke:
            return try invoke(operation, of: run, child: children[operation.stepName], at: now)
        case .notify(let event, let data):
            let woken = try wakeAll(event: event, data: data, at: now)
            try transaction.append(runId: run.id, entry: operation.entry(out: ["waiters": .list(woken.map(Value.string))]), at: now)
            return true
        }
        return false
    }

    /// Wakes the runs waiting on `event` (only `runId`'s when given) with `data`; an event for a
    /// running run that is not waiting yet is kept for its next wait (lookback), after the ones
    /// kept before it, up to `NotifyResult.maximumKeptEvents` a run.
    public func notify(event: String, data: Value, runId: String?, at time: TimestampValue) throws -> NotifyResult {
        // The run's row is locked before its waits are read, as a delivery that parks a wait locks
        // it before it looks for a kept event: one of the two then sees the other's work. Read the
        // other way round, on PostgreSQL, an event could be kept while the wait parked, each
        // unseen by the other, and the run would wait for an event it had been sent.
        let addressed = try runId.flatMap { try transaction.run(id: $0) }
        let woken = try wake(event: event, data: data, runId: runId, at: time)
        guard let runId, woken.isEmpty, let run = addressed, run.status == .running else {
            return NotifyResult(woken: woken, stored: false)
        }
        let kept = try transaction.keepEarlyEvent(
            data, kind: NotifyResult.lookbackKind, eventId: event, runId: runId, at: time, maximum: NotifyResult.maximumKeptEvents)
        return NotifyResult(woken: [], stored: kept, refused: !kept)
    }

    /// Keeps `request` (a webhook call's event body) for one of running SDK run `runId`'s coming
    /// waits on `eventId`, under a key of its own (`keepEarlyEvent`): `.noRun` when
    /// the run is not a running SDK run, `.refused` when it already keeps
    /// `WebhookOutcome.maximumKeptCalls` calls, unless the call is `returned` (it was kept, and
    /// counted, before it was taken out).
    public func keepWebhookCall(runId: String, eventId: String, request: String, returned: Bool, at time: TimestampValue) throws -> WebhookOutcome {
        guard let run = try transaction.run(id: runId), run.endpoint != nil, run.status == .running else { return .noRun }
        let kept = try transaction.keepEarlyEvent(
            .string(request), kind: WebhookRequest.lookbackKind, eventId: eventId, runId: runId, at: time,
            maximum: returned ? nil : WebhookOutcome.maximumKeptCalls)
        return kept ? .kept : .refused
    }

    /// Stores a pending operation with its timer or call message.
    private func park(
        _ operation: StepOperation, of run: RunRecord, timer: PendingMessage.Kind, dueAt: TimestampValue, timeoutAt: TimestampValue? = nil,
        event: String? = nil, at now: TimestampValue
    ) throws {
        try transaction.insertOperation(operation, runId: run.id, timeoutAt: timeoutAt, event: event, child: nil, at: now)
        try transaction.addTimer(runId: run.id, stepName: operation.stepName, kind: timer, dueAt: dueAt, at: now)
    }

    /// Starts the child run of an `invoke` step; true when the step failed at once instead (its
    /// entry is appended).
    private func invoke(_ operation: StepOperation, of run: RunRecord, child: RunRecord?, at now: TimestampValue) throws -> Bool {
        guard let child else {
            return try failInvoke(operation, of: run, "no run could be started for this step", at: now)
        }
        if let existing = try transaction.run(id: child.id) {
            guard existing.parent?.runId == run.id, existing.parent?.step == operation.stepName else {
                return try failInvoke(operation, of: run, "run id '\(child.id)' already belongs to another run; the child was not started", at: now)
            }
        } else {
            guard try invokeDepth(of: run) < RunRecord.maximumInvokeDepth else {
                return try failInvoke(
                    operation, of: run,
                    "invoke nests runs more than \(RunRecord.maximumInvokeDepth) deep (a workflow that invokes itself without end?); the child was not started",
                    at: now)
            }
            try startRun(child)
        }
        try transaction.insertOperation(operation, runId: run.id, timeoutAt: nil, event: nil, child: child.id, at: now)
        return false
    }

    /// How many invoking runs stand above `run` (0 for a run nobody invoked), counted up to the
    /// limit; a parent that retention removed ends the count.
    func invokeDepth(of run: RunRecord) throws -> Int {
        var depth = 0
        var parentId = run.parent?.runId ?? run.invoker?.parentRunId
        while let id = parentId, depth < RunRecord.maximumInvokeDepth, let parent = try transaction.run(id: id) {
            depth += 1
            parentId = parent.parent?.runId ?? parent.invoker?.parentRunId
        }
        return depth
    }

    private func failInvoke(_ operation: StepOperation, of run: RunRecord, _ message: String, at now: TimestampValue) throws -> Bool {
        let failure = StepError(message: message, type: "InvokeError", step: operation.stepName)
        try transaction.append(runId: run.id, entry: operation.entry(out: nil, error: failure), at: now)
        return true
    }

    /// Inserts a new run; a YAML run gets its initial journal entry and first delivery (an SDK
    /// run's come from its trigger message).
    public func startRun(_ run: RunRecord) throws {
        try transaction.insertRun(run)
        guard run.endpoint == nil else { return }
        let created = run.createdAt.wholeMilliseconds
        try transaction.append(runId: run.id, entry: .initial(run.input), at: created)
        try transaction.deliver(runId: run.id, attempt: 0, dueAt: created, at: created)
    }

    /// Completes the YAML waits on `event` (of `runId` only, when given) with `data`; the runs woken.
    func wake(event: String, data: Value, runId: String?, at now: TimestampValue) throws -> [WokenRun] {
        var woken: [WokenRun] = []
        for waiter in try transaction.waitingOperations(event: event, runId: runId) {
            let entry = waiter.operation.entry(out: StepOperation.waitResult(data: data))
            guard try resolve(runId: waiter.runId, operation: waiter.operation, entry: entry, at: now) else { continue }
            var deadline: TimestampValue?
            if case .wait(_, let timeoutAt) = waiter.operation.kind { deadline = timeoutAt }
            woken.append(WokenRun(runId: waiter.runId, deadline: deadline))
            // An event addressed to a run is one event: its oldest wait takes it, as that wait
            // would take it had it been kept, and a second wait on it waits for the next one.
            if runId != nil { break }
        }
        return woken
    }

    /// A `notify` step: wakes YAML and SDK runs waiting on `event`, the SDK runs' results planned
    /// by `EndpointWake`; every run woken.
    private func wakeAll(event: String, data: Value, at now: TimestampValue) throws -> [String] {
        var woken = try wake(event: event, data: data, runId: nil, at: now).map(\.runId)
        for wait in try transaction.endpointWaits(event: event, runId: nil) {
            let publication = try EndpointWake.publication(
                for: wait, data: data, defaults: try transaction.runDefaults(runId: wait.runId), now: now)
            if try resolveEndpointWait(wait, with: publication, at: now) { woken.append(wait.runId) }
        }
        return woken
    }
}
