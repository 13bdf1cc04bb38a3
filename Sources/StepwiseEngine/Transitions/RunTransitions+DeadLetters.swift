import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Listing dead-lettered runs, and resuming them from where they failed.
extension RunTransitions {
    /// Up to `count` entries (at most `DeadLetterFilter.maximumPage`) matching `filter` after
    /// `cursor`, newest failure first, and the cursor of the next page (`nil` on the last). A
    /// page is measured by its rows, so an entry that cannot be read (a run row of a newer
    /// version) is left out without ending the listing early.
    public func deadLetters(matching filter: DeadLetterFilter, after cursor: PageCursor?, count: Int) throws -> (
        letters: [DeadLetter], next: PageCursor?
    ) {
        let limit = min(max(count, 1), DeadLetterFilter.maximumPage)
        let (entries, last) = try PagedRows.page(limit: limit) { try transaction.deadLetters(matching: filter, after: cursor, limit: $0) }
        return (entries.compactMap(\.letter), last?.position)
    }

    /// Continues a dead-lettered run from its failed step, keeping completed results (an SDK run
    /// gets the delivery that failed again), with `options` instead of its own from now on; the
    /// run, or `nil` when there is no such entry (or another request took it first). Throws
    /// `ResumeRefusal`, changing nothing, for options a YAML run cannot take, or an SDK entry
    /// that keeps no failed delivery.
    public func resume(deadLetter id: String, options: ResumeOptions = ResumeOptions(), at time: TimestampValue) throws -> RunRecord? {
        guard let (letter, run) = try takeDeadLetter(id) else { return nil }
        let now = time.wholeMilliseconds
        if run.endpoint != nil {
            try resumeEndpointRun(run, letter: letter, options: options, at: now)
            return try transaction.run(id: run.id)
        }
        if let refusal = ResumeRefusal(yamlRun: options) { throw refusal }
        let failurePosition = try transaction.failurePosition(runId: run.id) ?? Int.max
        // Keep every completed result; drop the failed step's entry and what on_failure did.
        let dropped = try transaction.journalRows(runId: run.id).filter { row in
            let failedHere = row.entry?.error != nil && row.entry?.stepName == letter.failedStep
            return row.position >= failurePosition || failedHere
        }
        try transaction.removeJournalEntries(runId: run.id, positions: dropped.map(\.position))
        try transaction.reopenRun(id: run.id, at: now)
        if let label = options.label { try transaction.setRunOptions(id: run.id, label: label, defaults: nil, flowControlKey: run.flowControlKey) }
        try transaction.deliver(runId: run.id, attempt: 0, dueAt: now, at: now)
        return try transaction.run(id: run.id)
    }

    /// Starts `restarted` in place of dead-lettered run `id`, whose entry the caller read as
    /// failed at `failedAt`, and removes the entry, one transaction; false, starting nothing,
    /// when the entry is gone or failed again since (another request took it first).
    public func restart(deadLetter id: String, failedAt: TimestampValue, as restarted: RestartedRun, at time: TimestampValue) throws -> Bool {
        guard try takeDeadLetter(id, failedAt: failedAt) != nil else { return false }
        switch restarted {
        case .workflow(let run):
            try startRun(run)
        case .endpoint(let run, let initialBody, let first):
            let result = try apply(.startRun(run, initialBody: initialBody, first: first), at: time)
            guard case .stored = result else { throw RefusedPublication(result: result) }
        }
        return true
    }

    /// Removes dead-letter entry `id`; the entry, or `nil` when there was none.
    public func removeDeadLetter(id: String) throws -> DeadLetter? {
        guard let letter = try transaction.deadLetter(id: id), try transaction.removeDeadLetter(id: id) else { return nil }
        return letter
    }

    /// Sends the failure callback of dead-lettered run `id` again, once it has failed for good
    /// (Upstash's `POST /v2/workflows/dlq/callback/{id}`); the entry is kept, and tells how the
    /// new attempt goes. Of two retries at once, or a retry and a resume, one wins: the callback is
    /// queued only by the transaction whose write finds the entry as it read it.
    public func retryFailureCallback(deadLetter id: String, at time: TimestampValue) throws -> FailureCallbackRetry {
        guard let letter = try transaction.deadLetter(id: id), let run = try transaction.run(id: letter.runId), run.status == .failed else {
            return .noEntry
        }
        let now = time.wholeMilliseconds
        guard let failed = letter.failureCallback, let (record, callback) = failed.retried(at: now) else {
            return .notFailed(letter.failureCallback?.state)
        }
        guard try transaction.setDeadLetterFailureCallback(runId: run.id, record, expecting: (failed.message.id, .failed)) else {
            guard let current = try transaction.deadLetter(id: id) else { return .noEntry }
            return .notFailed(current.failureCallback?.state)
        }
        try enqueue(callback, at: now)
        return .retried(run)
    }

    /// Entry `id` (as failed at `failedAt`, when given) and its failed run, the entry removed;
    /// `nil` when there is none, or another transaction removed it first. The run's row, locked
    /// before the entry is read again, orders two requests acting on one entry (on PostgreSQL the
    /// second waits, then finds the entry gone or newer): of a resume, restart or delete at once,
    /// one acts.
    private func takeDeadLetter(_ id: String, failedAt: TimestampValue? = nil) throws -> (letter: DeadLetter, run: RunRecord)? {
        guard let runId = try transaction.deadLetter(id: id)?.runId, let run = try transaction.run(id: runId), run.status == .failed,
            let letter = try transaction.deadLetter(id: id), failedAt.map({ $0 == letter.createdAt }) ?? true,
            try transaction.removeDeadLetter(id: id)
        else { return nil }
        return (letter, run)
    }

    /// Makes a dead-lettered SDK run run again from the delivery that failed, `options.delay`
    /// from now, with `options` added to the run's overrides.
    private func resumeEndpointRun(_ run: RunRecord, letter: DeadLetter, options: ResumeOptions, at now: TimestampValue) throws {
        guard let failed = letter.message else {
            throw ResumeRefusal(message: "the entry of '\(run.id)' keeps no failed delivery to send again; delete it and trigger the workflow anew")
        }
        let overrides = RunOverrides(options, runId: run.id)
        let defaults = RunDefaults.adding(overrides, to: run.defaults)
        var message = defaults?.overrides?.applied(to: failed) ?? failed
        message.id = QueuedMessage.freshId()
        message.dueAt = options.due(at: now)
        try dropServingMessages(of: run.id, at: now)
        try transaction.reopenRun(id: run.id, at: now)
        // The entry the SDK finds by the delivery's message id when it fetches the log (lazy fetch).
        try transaction.relabelLogEntry(runId: run.id, from: failed.id, to: message.id)
        if options.label != nil || !overrides.isEmpty {
            try transaction.setRunOptions(
                id: run.id, label: options.label ?? run.label, defaults: defaults,
                flowControlKey: overrides.flowControlKey(of: message, current: run.flowControlKey))
        }
        try enqueue(message, at: now)
        if let latest = try deliveryOfLogEnd(after: message, runId: run.id) { try enqueue(latest, at: now) }
    }

    /// Takes from failed run `runId` the messages still queued that serve it (deliveries in flight
    /// when it failed, which its end kept), so that their late answers cannot fail the resumed
    /// run; its failure callback goes on. Logged canceled here: their attempts log nothing of a
    /// run running again.
    private func dropServingMessages(of runId: String, at now: TimestampValue) throws {
        let serving = try transaction.queuedMessages(runId: runId).filter { $0.message?.servesItsRun == true }
        let messages = serving.compactMap(\.message)
        for message in messages { try transaction.deleteQueued(id: message.id) }
        try ended(serving, loggingCanceled: messages, at: now)
    }

    /// A delivery of the whole log when it grew past the resumed delivery while the run was failed
    /// (an invoked run's end, `reportToInvoker`): the resumed delivery carries the log up to its
    /// own entry only, and may run nothing new (a group's result short of the others), so without
    /// it the run would never see that end. `nil` when the log ends at the resumed delivery.
    private func deliveryOfLogEnd(after resumed: QueuedMessage, runId: String) throws -> QueuedMessage? {
        guard resumed.role == .workflow, let position = resumed.logPosition, let last = try transaction.lastLogPosition(runId: runId), last > position,
            let lastId = try transaction.logMessageId(runId: runId, position: last)
        else { return nil }
        var latest = resumed
        latest.id = QueuedMessage.freshId()
        latest.logPosition = last
        try transaction.relabelLogEntry(runId: runId, from: lastId, to: latest.id)
        return latest
    }
}
