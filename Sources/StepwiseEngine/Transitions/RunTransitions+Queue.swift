import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash queue and SDK runs: publications (`PublicationPlanner`) and attempt follow-ups
/// (`QueuedAttemptResolver`) applied, waits parked and resolved, runs ended by their endpoint.
extension RunTransitions {
    /// Applies the publications of one publish or batch request in order, each deduplicated by
    /// its key in `keys` (`nil`, or missing, for none): a key taken by a message published within
    /// `MessageDeduplication.window` answers with that message, and nothing is stored. Throws
    /// `RefusedPublication` when one is refused, for the store to roll the whole request back.
    public func publish(_ publications: [Publication], deduplicatedBy keys: [String?] = [], at time: TimestampValue) throws -> [PublicationResult] {
        let since = time.movedBack(by: MessageDeduplication.window)
        if keys.contains(where: { $0 != nil }) { try transaction.forgetDeduplications(before: since) }
        return try publications.enumerated().map { index, publication in
            let key = keys.indices.contains(index) ? keys[index] : nil
            if let key, let earlier = try transaction.claimDeduplication(key: key, messageId: publication.messageId, at: time, since: since) {
                return .deduplicated(earlier)
            }
            let result = try apply(publication, at: time)
            guard PublishRefusal(result) == nil else { throw RefusedPublication(result: result) }
            // The run or step existed already: the key names the message that stored it.
            if case .deduplicated(let earlier) = result, let key { try transaction.setDeduplication(key: key, messageId: earlier) }
            return result
        }
    }

    /// Applies one publication: starts an SDK run, appends a step to its log, or queues a message.
    func apply(_ publication: Publication, at now: TimestampValue) throws -> PublicationResult {
        switch publication {
        case .startRun(let run, let body, var first, let bySDK):
            // Checked here, in the transaction that would start it, so that two triggers of one
            // new id at two URLs cannot both pass.
            if let existing = try transaction.run(id: run.id) {
                if bySDK || run.invoker != nil {
                    if let repeated = try repeatedStart(of: existing, as: run, first: first, bySDK: bySDK, at: now) { return repeated }
                } else if try existing.endpoint == nil || !transaction.deleteEndedRun(id: run.id) {
                    // A client's id is reserved while its SDK run is in progress and released when
                    // it ends, as Upstash's (its singleton workflows): the ended run makes way.
                    return existing.endpoint == run.endpoint ? .runInProgress(run.id) : .runIdTaken(run.id)
                }
            }
            if let parentId = run.invoker?.parentRunId, let parent = try transaction.run(id: parentId),
                try invokeDepth(of: parent) >= RunRecord.maximumInvokeDepth
            {
                return .invokeTooDeep(parentId)
            }
            try startRun(run)
            // A restart's overrides (`RunOverrides`) apply from its first delivery.
            if let overrides = run.defaults?.overrides { first = overrides.applied(to: first) }
            _ = try transaction.appendLog(runId: run.id, entry: RawStep(messageId: first.id, body: body), dedupeKey: nil, at: now)
            try enqueue(first, at: now)
            return .stored(first.id)
        case .append(let runId, let entry, let dedupeKey, var message):
            guard let run = try transaction.run(id: runId) else { return .unknownRun(runId) }
            // A YAML run's steps are its definition's: no log to append to, no endpoint to deliver.
            guard run.endpoint != nil else { return .yamlRun(runId) }
            guard run.status == .running else { return .runEnded(run.status) }
            if let dedupeKey, let existing = try transaction.logMessageId(runId: runId, dedupeKey: dedupeKey) {
                return .deduplicated(existing)
            }
            let position = try transaction.appendLog(runId: runId, entry: entry, dedupeKey: dedupeKey, at: now)
            if message.role == .workflow { message.logPosition = position }
            // Read in this transaction, so a step published while a resume commits gets them too.
            if let overrides = run.defaults?.overrides { message = overrides.applied(to: message) }
            try enqueue(message, at: now)
            return .stored(message.id)
        case .enqueue(let message):
            try enqueue(message, at: now)
            return .stored(message.id)
        }
    }

    /// A start of `existing` again, by the SDK's own trigger or by an invoke, each repeating a start
    /// whose answer it lost: deduplicated when it names the same run, else refused; `nil` when
    /// `existing` made way for `run` (the ended child of an earlier run under the invoker's id).
    private func repeatedStart(of existing: RunRecord, as run: RunRecord, first: QueuedMessage, bySDK: Bool, at now: TimestampValue) throws
        -> PublicationResult?
    {
        // The JS SDK's trigger of a run that asked for it names the run's URL as the SDK sees
        // it, which may be spelled otherwise.
        let triggeredAsAsked = bySDK && existing.defaults?.awaitsSDKTrigger != nil
        guard triggeredAsAsked || existing.endpoint == run.endpoint else { return .runIdTaken(run.id) }
        // An invoke's child id held by a run this parent did not invoke is never adopted: that
        // run's end would never reach the parent, which would wait for it forever.
        if let invoker = run.invoker, existing.invoker?.parentRunId != invoker.parentRunId { return .runIdTaken(run.id) }
        // Nor is the ended child of an earlier run under the parent's id (a client reused it):
        // the new parent's invoke starts a child of its own in its place.
        if let invoker = run.invoker, let parent = try transaction.run(id: invoker.parentRunId), parent.createdAt > existing.createdAt {
            // Its last delivery may still be in flight: in progress a moment longer.
            return try transaction.deleteEndedRun(id: run.id) ? nil : .runInProgress(run.id)
        }
        if triggeredAsAsked, let id = try deliverAgain(existing, first: first, at: now) { return .redelivered(id) }
        return .deduplicated(try transaction.logMessageId(runId: run.id, position: 0) ?? first.id)
    }

    /// The JS SDK's new trigger of `run`, whose first delivery said `Upstash-Workflow-Unknown-Sdk`
    /// (workflow-js `triggerFirstInvocation` with `unknownSdk`): the run's first delivery is queued
    /// again with the run's own options, once (`awaitsSDKTrigger` turns false in the same
    /// transaction), while the run is running with only its initial payload. The new delivery's
    /// id; `nil` when there is nothing to deliver again.
    private func deliverAgain(_ run: RunRecord, first: QueuedMessage, at now: TimestampValue) throws -> String? {
        guard var defaults = run.defaults, defaults.awaitsSDKTrigger == true, run.status == .running,
            try transaction.logMessageId(runId: run.id, position: 1) == nil
        else { return nil }
        defaults.awaitsSDKTrigger = false
        try transaction.setRunOptions(id: run.id, label: run.label, defaults: defaults, flowControlKey: run.flowControlKey)
        // The run's failure callback, forwarded headers (over the SDK trigger's) and its retries,
        // delays and flow control where the run set them; to the run's endpoint, as its caller's,
        // without the mark that asked for this trigger.
        var own = first
        own.headers = RunDefaults.layered(
            first.headers.filter { !$0.name.equalsIgnoringASCIICase(WorkflowTrigger.unknownSDKHeader) }, under: defaults.headers)
        var again = defaults.applied(to: own, options: MessageOptions(), failureCallback: nil)
        again.destination = run.endpoint ?? first.destination
        again.callerIp = run.callerIp
        if let overrides = defaults.overrides { again = overrides.applied(to: again) }
        if let delivered = try transaction.logMessageId(runId: run.id, position: 0) {
            try transaction.relabelLogEntry(runId: run.id, from: delivered, to: again.id)
        }
        try enqueue(again, at: now)
        return again.id
    }

    /// Cancels the plain queued messages among `ids`, or every one when `ids` is `nil`, that
    /// `filter` takes (oldest first, at most its `count`) and are not in flight at `now`
    /// (QStash's cancel: for one being delivered it is too late). Messages
    /// of runs, a failed run's notice to its failure URL included, are left to the runs. Returns
    /// how many were canceled.
    public func cancelPlainMessages(ids: [String]?, matching filter: PlainMessageFilter = PlainMessageFilter(), at now: TimestampValue) throws -> Int {
        var canceled = 0
        for id in try ids ?? transaction.plainQueuedIds() {
            if let count = filter.count, canceled >= count { break }
            guard let (message, createdAt) = try transaction.queuedMessage(id: id), message.isPlain, filter.matches(message, createdAt: createdAt),
                try transaction.deleteQueuedUnlessInFlight(id: id, at: now)
            else { continue }
            if let key = message.slotKey { try transaction.releaseSlot(key: key) }
            try transaction.appendMessageEvent(MessageEvent(.canceled, of: message, at: now.millisecondsSinceEpoch))
            canceled += 1
        }
        return canceled
    }

    /// Queues `message`, creating the QStash queue it names if there is none yet, and logs it as
    /// created (unless it is an SDK wait's timeout, which the engine resolves itself).
    func enqueue(_ message: QueuedMessage, at now: TimestampValue) throws {
        if let queue = message.queue { try NamedQueues(transaction).ensure(queue, at: now.millisecondsSinceEpoch) }
        try transaction.enqueue(message, at: now)
        guard message.role != .waitTimeout else { return }
        try transaction.appendMessageEvent(MessageEvent(.created, of: message, at: now.millisecondsSinceEpoch))
    }

    /// Applies what follows an attempt of a claimed queued message; false when the lease was lost
    /// (another node took the message) or the message's run ended meanwhile, and then only the
    /// attempt is kept: in the run's history when the run ended, and in the message log.
    public func finishAttempt(_ message: QueuedMessage, owner: String, with followUp: AttemptFollowUp) throws -> Bool {
        // When it was published, read before its row goes.
        let publishedAt = followUp.deadLetter == nil ? nil : try transaction.queuedMessage(id: message.id)?.createdAt
        let run = try message.runId.flatMap { try transaction.run(id: $0) }
        // A run's end leaves its deliveries in flight queued (its id stays taken until they end):
        // such a one ends, never retried, as one whose message the end took.
        let endedUnderIt = message.servesItsRun && run?.status.isFinal == true
        let owned =
            if let retry = followUp.retry, !endedUnderIt {
                try transaction.retryQueued(id: message.id, owner: owner, attempt: retry.attempt, dueAt: retry.dueAt)
            } else {
                try transaction.removeQueued(id: message.id, owner: owner)
            }
        if let key = message.slotKey { try transaction.releaseSlot(key: key) }
        // The delivery that ends a run (its cleanup call came in while it was in flight) is still
        // part of the run's history and of the log.
        if let record = followUp.record, let run, owned || run.status.isFinal { try transaction.record(record) }
        guard owned, !endedUnderIt else {
            try logEndedWithRun(message, of: run, attempt: followUp.events.first, at: followUp.decidedAt ?? followUp.record?.finishedAt ?? message.dueAt)
            return false
        }
        for event in followUp.events { try transaction.appendMessageEvent(event) }
        let now = (followUp.decidedAt ?? followUp.record?.finishedAt ?? message.dueAt).wholeMilliseconds
        if let (runId, error) = followUp.failRun,
            try fail(runId: runId, error: error, deadLetter: message, answer: followUp.runFailureAnswer, at: now),
            let callback = followUp.enqueue.first(where: { $0.message.role == .failureCallback && $0.message.runId == runId })?.message
        {
            _ = try transaction.setDeadLetterFailureCallback(runId: runId, FailureCallbackRecord(queued: callback), expecting: nil)
        }
        if let (delivered, answer) = followUp.failureCallbackEnd, let runId = message.runId,
            let ended = try transaction.deadLetter(id: DeadLetter.id(ofRun: runId))?.failureCallback?.ended(
                messageId: message.id, delivered: delivered, answer: answer)
        {
            _ = try transaction.setDeadLetterFailureCallback(runId: runId, ended, expecting: (message.id, .inProgress))
        }
        if let response = followUp.deadLetter {
            let failed = now.millisecondsSinceEpoch
            let letter = MessageDeadLetter(message: message, response: response, createdAt: publishedAt ?? failed, failedAt: failed)
            try MessageDeadLetters(transaction).keep(letter)
        }
        for (queued, entry) in followUp.enqueue {
            if let entry, let runId = queued.runId {
                guard try transaction.run(id: runId)?.status == .running else { continue }
                _ = try transaction.appendLog(runId: runId, entry: entry, dedupeKey: nil, at: now)
            }
            try enqueue(queued, at: now)
        }
        return true
    }

    /// For an attempt whose lease was lost: when the run's end took `message` while the attempt
    /// was in flight, logs how the attempt went (`outcome`: delivered, an error; none when it
    /// found the run ended and made no request), then, unless it was delivered, that the message
    /// is canceled with its run. Nothing when the message is still queued (another node took it
    /// after the lease ended: its attempts log themselves), when the log already shows the
    /// message's end (another node ended it), or for a wait's timeout (never logged).
    private func logEndedWithRun(_ message: QueuedMessage, of run: RunRecord?, attempt outcome: MessageEvent?, at time: TimestampValue) throws {
        guard message.role != .waitTimeout, run?.status.isFinal == true, try transaction.queuedMessage(id: message.id) == nil,
            try !transaction.messageLogShowsEnd(of: message.id)
        else { return }
        if let outcome { try transaction.appendMessageEvent(outcome) }
        guard outcome?.state != .delivered else { return }
        try transaction.appendMessageEvent(MessageEvent(.canceled, of: message, at: time.millisecondsSinceEpoch))
    }

    /// Ends a running SDK run as succeeded with `output`; the run afterwards, or `nil` when there is none.
    public func finishEndpointRun(runId: String, output: Value?, at time: TimestampValue) throws -> RunRecord? {
        guard let run = try transaction.run(id: runId) else { return nil }
        guard run.status == .running else { return run }
        if try transaction.endRun(id: runId, status: .succeeded, output: output, error: nil, at: time) {
            try finish(runId: runId, status: .succeeded, at: time)
        }
        return try transaction.run(id: runId)
    }

    /// Parks an SDK run on `wait` with its timeout message; `.deduplicated` for a second wait on
    /// the same step.
    public func registerEndpointWait(_ wait: EndpointWait, timeout: QueuedMessage, at time: TimestampValue) throws -> PublicationResult {
        guard let run = try transaction.run(id: wait.runId) else { return .unknownRun(wait.runId) }
        guard run.endpoint != nil else { return .yamlRun(wait.runId) }
        guard run.status == .running else { return .runEnded(run.status) }
        guard try transaction.insertEndpointWait(wait, timeoutAt: timeout.dueAt, at: time) else { return .deduplicated(wait.timeoutMessageId) }
        try enqueue(timeout, at: time)
        return .stored(timeout.id)
    }

    /// Completes `wait` with `publication` (its result step) and drops its timeout; false when
    /// another notify or its timeout came first, or its run ended (then nothing changes).
    public func resolveEndpointWait(_ wait: EndpointWait, with publication: Publication, at now: TimestampValue) throws -> Bool {
        guard try transaction.run(id: wait.runId)?.status == .running else { return false }
        guard try transaction.deleteEndpointWait(runId: wait.runId, stepKey: wait.stepKey) else { return false }
        try transaction.deleteQueued(id: wait.timeoutMessageId)
        let result = try apply(publication, at: now)
        guard PublishRefusal(result) == nil else { throw RefusedPublication(result: result) }
        return true
    }

    /// Fails a running SDK run for good and keeps the message that failed, for resume, with the
    /// answer that failed it; false when the run had already ended.
    private func fail(runId: String, error: StepError, deadLetter message: QueuedMessage, answer: AttemptAnswer?, at now: TimestampValue) throws
        -> Bool
    {
        guard try transaction.endRun(id: runId, status: .failed, output: nil, error: error, at: now) else { return false }
        try finish(runId: runId, status: .failed, at: now)
        var retried = message
        retried.attempt = 0
        // A workflow delivery's body is built from the log when it is delivered; a callback's is its own.
        if message.role == .workflow { retried.body = nil }
        try transaction.setDeadLetterMessage(runId: runId, message: retried, answer: answer)
        return true
    }

    /// Publishes the end of an invoked SDK run to its parent's log (`EndpointInvoker`), with the
    /// parent's run-level options as its own step publishes get them. A parent that failed
    /// meanwhile (a step of another parallel branch) keeps the entry without a delivery, as
    /// Upstash's logs show it: resumed from the DLQ, it goes on from the child's end rather than
    /// waiting for it forever. Nothing for a parent that succeeded or was canceled.
    func reportToInvoker(_ invoker: EndpointInvoker, of run: RunRecord, status: RunStatus, at now: TimestampValue) throws {
        let parent = try transaction.run(id: invoker.parentRunId)
        // A run started after this one under the invoker's id (a client reused it) never invoked it.
        if let parent, parent.createdAt > run.createdAt { return }
        let planner = PublicationPlanner(now: now, defaults: parent?.defaults.map { [invoker.parentRunId: $0] } ?? [:])
        guard let publication = try? planner.plan(invoker.resolution(status: status, output: run.output, error: run.error)) else { return }
        if case .append(let parentId, let entry, let dedupeKey, _) = publication, let parent, parent.id == parentId, parent.status == .failed,
            parent.endpoint != nil
        {
            // A child resumed from the DLQ ends again: its step's first end stays.
            if let dedupeKey, try transaction.logMessageId(runId: parentId, dedupeKey: dedupeKey) != nil { return }
            _ = try transaction.appendLog(runId: parentId, entry: entry, dedupeKey: dedupeKey, at: now)
            return
        }
        _ = try apply(publication, at: now)
    }
}

/// A publication the store refused, which rolls back the rest of its request.
public struct RefusedPublication: Error {
    /// Why it was refused.
    public let result: PublicationResult
}
