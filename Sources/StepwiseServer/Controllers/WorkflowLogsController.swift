import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Upstash's logs API over every run, YAML and SDK alike: `GET /v2/workflows/logs` and
/// `GET /v2/workflows/events?groupBy=workflowRunId` (what the SDKs' `logs()` reads), newest run
/// first, `{cursor, runs}` (`WorkflowRunLogView`).
struct WorkflowLogsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Runs per page when the request names no `count`, and at most.
    static let defaultCount = 10
    static let maximumCount = 100

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("v2/workflows/logs") { request, _ in await logs(request) }
        router.get("v2/workflows/events") { request, _ in await logs(request) }
    }

    private func logs(_ request: Request) async -> Response {
        let query = request.formParameters
        if let groupBy = query["groupBy"], groupBy != "workflowRunId" {
            return JSONResponse.error(.badRequest, "groupBy '\(groupBy)' is not served; use groupBy=workflowRunId (runs with their steps)")
        }
        let filter: RunFilter
        do {
            filter = try Self.filter(query)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            let runs = try await engine.store.runs(filter)
            var logs: [Value] = []
            for run in runs { logs.append(try await log(of: run, request: request)) }
            let next: Value = runs.count == filter.limit && filter.runIds.isEmpty ? runs.last.map { .string(PageCursor(after: $0).text) } ?? .null : .null
            return JSONResponse.make(.ok, ["cursor": next, "runs": .list(logs)])
        } catch {
            return failures.answer("cannot read the workflow logs", error)
        }
    }

    private func log(of run: RunRecord, request: Request) async throws -> Value {
        let progress = try await engine.store.progress(runId: run.id)
        let log = run.endpoint == nil ? WorkflowRunLogView.SDKLog() : try await sdkLog(of: run.id)
        let attempts = run.endpoint == nil ? try await engine.store.attempts(runId: run.id) : []
        let host = request.head.authority ?? "127.0.0.1"
        let url = run.endpoint ?? "http://\(host)/workflows/\(run.workflow)"
        let deadLetter = run.endpoint != nil && run.status == .failed ? try await engine.store.deadLetter(id: DeadLetter.id(ofRun: run.id)) : nil
        let next = run.endpoint == nil ? [] : try await nextDeliveries(of: run)
        let waits = run.endpoint == nil && run.status == .running ? try await engine.pendingWaits(runId: run.id, pending: progress.pending) : []
        return WorkflowRunLogView.run(
            run, url: url, progress: progress, log: log, attempts: attempts, deadLetter: deadLetter, next: next, waits: waits,
            fanOutSteps: run.endpoint == nil ? try await fanOutSteps(of: run) : [])
    }

    /// The ids of a YAML run's top-level `parallel` and `for_each` steps, whose steps the logs
    /// show as parallel groups; none when its definition is nowhere to be read.
    private func fanOutSteps(of run: RunRecord) async throws -> Set<String> {
        guard let workflow = try await engine.definition(pinnedBy: run)?.workflow else { return [] }
        return Set(workflow.steps.filter { step in
            switch step.kind {
            case .parallel, .forEach: true
            default: false
            }
        }.map(\.id.value))
    }

    /// SDK run `runId`'s log with when each entry was recorded, and the messages that appended the
    /// entries the logs show, as QStash's message log still keeps them.
    private func sdkLog(of runId: String) async throws -> WorkflowRunLogView.SDKLog {
        let timed = try await engine.store.timedRunLog(runId: runId)
        let shown = timed.map(\.entry).filter { $0.callType == .step }.map(\.messageId)
        let messages = try await engine.store.createdMessages(ids: shown)
        return WorkflowRunLogView.SDKLog(entries: timed.map(\.entry), recordedAt: timed.map(\.recordedAt), messages: messages)
    }

    /// What an SDK run waits on while it runs (its queued deliveries to the endpoint, and a call's
    /// to its third party), or what its cancel dropped (from QStash's message log, while it keeps
    /// them), each with the errors of its attempts so far.
    private func nextDeliveries(of run: RunRecord) async throws -> [WorkflowRunLogView.NextDelivery] {
        switch run.status {
        case .running:
            let queued = try await engine.store.queuedMessages(runId: run.id).filter(WorkflowRunLogView.NextDelivery.isShown)
            return try await withErrors(queued, tried: queued.filter { $0.attempt > 0 }.map(\.id))
        case .canceled:
            // From the cancel on (it ended the run then): a run resumed from the DLQ keeps its id,
            // and the failure before the resume logged the deliveries it dropped as canceled too.
            let canceled = try await events(.canceled) { filter in
                filter.runId = run.id
                filter.from = run.updatedAt.millisecondsSinceEpoch
            }.map(\.messageId)
            let created = try await engine.store.createdMessages(ids: canceled)
            // In the order the cancel dropped them (the log lists its newest first).
            let dropped = canceled.reversed().compactMap { created[$0] }.filter(WorkflowRunLogView.NextDelivery.isShown)
            return try await withErrors(dropped, tried: dropped.map(\.id))
        case .succeeded, .failed:
            return []
        }
    }

    /// `messages`, each with the `ERROR` events of its attempts (oldest first); only those of `tried` are looked up.
    private func withErrors(_ messages: [QueuedMessage], tried: [String]) async throws -> [WorkflowRunLogView.NextDelivery] {
        let errors = tried.isEmpty ? [] : try await events(.error) { $0.messageIds = tried }
        return messages.map { message in .init(message: message, errors: errors.filter { $0.messageId == message.id }.reversed()) }
    }

    /// The newest events of `state` (at most a page) that `narrowed` selects, newest first.
    private func events(_ state: MessageEvent.State, _ narrowed: (inout MessageEventFilter) -> Void) async throws -> [MessageEvent] {
        var filter = MessageEventFilter()
        filter.states = [state]
        narrowed(&filter)
        return try await engine.store.messageEvents(matching: filter, before: nil, count: MessageEventFilter.maximumPage).events
    }

    /// Filters of Upstash's logs API that Stepwise does not apply, with why: refused rather than
    /// ignored, which would list runs they do not match.
    private static let unserved = [("messageId", "runs are not found by the id of one of their messages; filter on workflowRunId")]

    /// The listing a query asks for: `count` (1 to `maximumCount`), `cursor`, `state`,
    /// `workflowRunId`, `workflowUrl` (exact), `label`, `flowControlKey`, `callerIp` (or `callerIP`),
    /// `workflowCreatedAt` (the run's start, unix milliseconds), `fromDate` and `toDate` (unix
    /// milliseconds of the start, inclusive), all of which hold; `workflowUrl`, `label`,
    /// `flowControlKey` and `callerIp` of several values (any of them), the others of one; an
    /// error names the parameter that is wrong.
    static func filter(_ query: Hummingbird.Parameters) throws(ProtocolError) -> RunFilter {
        var filter = RunFilter(limit: defaultCount)
        let listing = ListingQuery(parameters: query)
        try listing.refuseUnserved(unserved)
        (filter.createdFrom, filter.createdBefore) = try listing.createdRange()
        if let created = try listing.single("workflowCreatedAt") {
            // The run started at that millisecond; with a date range, both hold.
            guard let milliseconds = Int64(created) else { throw ProtocolError("workflowCreatedAt must be unix milliseconds") }
            let start = try ListingQuery.timestamp(milliseconds, "workflowCreatedAt")
            let end = try ListingQuery.timestamp(milliseconds.addingReportingOverflow(1).partialValue, "workflowCreatedAt")
            filter.createdFrom = max(filter.createdFrom ?? start, start)
            filter.createdBefore = min(filter.createdBefore ?? end, end)
        }
        if let count = try listing.single("count") {
            guard let parsed = Int(count), (1...maximumCount).contains(parsed) else {
                throw ProtocolError("count must be a number from 1 to \(maximumCount)")
            }
            filter.limit = parsed
        }
        filter.after = try listing.cursor { PageCursor(text: $0) }
        if let state = try listing.single("state") {
            guard let status = WorkflowRunLogView.status(state) else {
                throw ProtocolError("unknown state '\(state)'; use RUN_STARTED, RUN_SUCCESS, RUN_FAILED or RUN_CANCELED")
            }
            filter.status = status
        }
        filter.runIds = try listing.single("workflowRunId").map { [$0] } ?? []
        filter.endpoints = listing.urls("workflowUrl")
        try listing.runMatch(into: &filter)
        return filter
    }
}
