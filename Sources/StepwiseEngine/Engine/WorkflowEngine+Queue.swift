import Foundation
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash side of the engine: messages the SDKs publish, and their deliveries through the
/// `DeliveryTarget`. Decisions are made by `PublicationPlanner` and `QueuedAttemptResolver`;
/// the store applies them.
extension WorkflowEngine {
    /// Stores the messages of one publish or batch request (all, or none when one is refused),
    /// each deduplicated as it asks (`MessageDeduplication`), and wakes the delivery loop; a result
    /// per message, or the one refusal. A refusal names the batch item of `batchItems` (the
    /// request's item each message came from; by default its position when there are several).
    public func publish(_ messages: [PublishedMessage], batchItems: [Int]? = nil) async throws -> Result<[PublicationResult], PublishRefusal> {
        let planner = try await planner(for: messages)
        var publications: [Publication] = []
        let items = batchItems ?? (messages.count > 1 ? Array(messages.indices) : nil)
        for (index, message) in messages.enumerated() {
            do {
                try NewMessageRules.check(message, at: planner.now)
                publications.append(try planner.plan(message))
            } catch {
                return .failure(.invalid(items.map { error.located("batch item \($0[index])") } ?? error))
            }
        }
        let results = try await store.publish(publications, deduplicatedBy: messages.map(MessageDeduplication.key(of:)), at: planner.now)
        if let refusal = results.first.flatMap(PublishRefusal.init) { return .failure(refusal) }
        for case (.startRun(let run, _, _, _), .redelivered) in zip(publications, results) {
            // Its first entry is now delivered under a new message id.
            encodedLogs.forget(run.id)
        }
        queueChanged()
        publishEvents(of: zip(publications, results).compactMap { publication, result in
            // A run's first delivery queued again is no new start.
            guard case .stored = result else { return nil }
            return publication
        }, at: planner.now)
        return .success(results)
    }

    /// Each of `messages` as the messages it stands for: itself, or a copy for each endpoint of
    /// the URL group it names (refused when the group does not exist, has no endpoints, or the
    /// message belongs to a workflow run, which goes to its workflow's URL).
    public func expandingURLGroups(_ messages: [PublishedMessage]) async throws -> Result<[[PublishedMessage]], PublishRefusal> {
        var groups: [String: URLGroup] = [:]
        var expanded: [[PublishedMessage]] = []
        for (index, message) in messages.enumerated() {
            guard message.isToURLGroup else {
                expanded.append([message])
                continue
            }
            let name = message.destination
            func refused(_ problem: String) -> Result<[[PublishedMessage]], PublishRefusal> {
                .failure(.invalid(messages.count > 1 ? ProtocolError(problem).located("batch item \(index)") : ProtocolError(problem)))
            }
            if message.options.workflow.isWorkflowMessage {
                // A workflow's URL that is no URL is the mistake, not a missing group.
                do throws(ProtocolError) { try Destination.validate(name) } catch { return refused(error.message) }
            }
            if groups[name] == nil { groups[name] = try await store.urlGroup(name) }
            guard let group = groups[name] else { return .failure(.unknownURLGroup(name)) }
            guard !group.endpoints.isEmpty else { return refused("URL group '\(name)' has no endpoints") }
            expanded.append(group.endpoints.map { message.copy(to: $0.url, endpointName: $0.name) })
        }
        return .success(expanded)
    }

    /// Cancels the plain queued messages among `ids`, or all of them when `ids` is `nil`, that
    /// `filter` takes, except those being delivered; what waited for their slots may go. Returns
    /// how many were canceled.
    public func cancelPlainMessages(ids: [String]?, matching filter: PlainMessageFilter = PlainMessageFilter()) async throws -> Int {
        let canceled = try await store.cancelPlainMessages(ids: ids, matching: filter, at: clock())
        if canceled > 0 { queueChanged() }
        return canceled
    }

    /// A planner for `messages`, knowing the run-level options of the runs they append to.
    func planner(for messages: [PublishedMessage]) async throws -> PublicationPlanner {
        var defaults: [String: RunDefaults] = [:]
        for runId in Set(messages.compactMap { $0.options.workflow.isInit == false ? $0.options.workflow.runId : nil }) {
            defaults[runId] = try await store.runDefaults(runId: runId)
        }
        return PublicationPlanner(now: clock(), defaults: defaults)
    }

    /// An SDK run's endpoint reports that its function returned (`DELETE
    /// /v2/workflows/runs/{id}?cancel=false`): the run succeeded with `output`. Idempotent.
    public func finishEndpointRun(_ runId: String, output: Value?) async throws -> RunRecord? {
        encodedLogs.forget(runId)
        let run = try await store.finishEndpointRun(runId: runId, output: output, at: clock())
        if let run, run.status.isFinal {
            events.publish(RunEvent(kind: .finished, runId: run.id, workflow: run.workflow, status: run.status, at: run.updatedAt))
            queueChanged()
        }
        return run
    }

    /// The change feed's events of an SDK request's stored publications: a run started, a step
    /// appended to a log (a plan is not a step).
    private func publishEvents(of publications: [Publication], at now: TimestampValue) {
        for publication in publications {
            switch publication {
            case .startRun(let run, _, _, _):
                events.publish(RunEvent(kind: .started, runId: run.id, workflow: run.workflow, status: .running, at: now))
            case .append(let runId, let entry, _, let message):
                guard entry.callType == .step, let step = try? entry.step(), !step.isPlan else { continue }
                // An SDK run's workflow is its endpoint, where its next delivery goes.
                let workflow = message.role == .workflow ? message.destination : nil
                events.publish(RunEvent(kind: .stepRecorded, runId: runId, workflow: workflow, step: step.stepName, status: .running, at: now))
            case .enqueue: continue
            }
        }
    }

    /// A fresh SDK run with the initial payload and label of the dead-lettered `old`, delivered
    /// to its endpoint with the failed message's options (`firstDelivery(restarting:failed:)`)
    /// and `options` over them, `options.delay` from now, in place of the entry; `nil` when the
    /// entry is gone. Throws `ResumeRefusal` when the entry keeps no failed delivery or initial
    /// payload to start from.
    func restartEndpointRun(_ old: RunRecord, letter: DeadLetter, options: ResumeOptions) async throws -> RunRecord? {
        guard let failed = letter.message, let payload = try await store.runLog(runId: old.id, through: 0).first?.body else {
            throw ResumeRefusal(message: "cannot restart '\(letter.id)': the entry keeps no failed delivery or initial payload to start from")
        }
        let now = clock()
        let id = RunIdentifier.fresh()
        let overrides = RunOverrides(options, runId: id)
        var first = Self.firstDelivery(restarting: old, failed: failed)
        first.id = QueuedMessage.freshId()
        first.runId = id
        first.runIdHeader = id
        first.failureCallback?.runId = id
        first.logPosition = 0
        first.dueAt = options.due(at: now)
        // The JS SDK 1.x's run-level options, and what earlier resumes overrode, go on with the new
        // run; the overrides apply from its first delivery (`RunTransitions.apply`).
        let defaults = RunDefaults.adding(overrides, to: old.defaults?.moved(to: id))
        var run = RunRecord(
            id: id, workflow: old.workflow, definitionHash: "", input: old.input, createdAt: now, updatedAt: now, endpoint: old.endpoint,
            defaults: defaults, label: options.label ?? old.label, flowControlKey: overrides.flowControlKey(of: first, current: old.flowControlKey))
        run.callerIp = old.callerIp
        let restarted = RestartedRun.endpoint(run, initialBody: payload, first: first)
        guard try await store.restart(deadLetter: letter.id, failedAt: letter.createdAt, as: restarted, at: now) else { return nil }
        announceStart(of: run)
        queueChanged()
        return run
    }

    /// The first delivery of a restart of `old`: its failed delivery, or, when a call's callback
    /// failed it, a delivery to its endpoint with the callback's user headers, retries (the Python
    /// SDK gives a call's callback the run's) and failure callback, else the run-level ones of
    /// the JS SDK 1.x (the callback's `Upstash-Workflow-*` headers say it answers a call; a
    /// delivery says the SDK version, or the SDK takes it for a new trigger).
    static func firstDelivery(restarting old: RunRecord, failed: QueuedMessage) -> QueuedMessage {
        guard failed.role != .workflow else { return failed }
        let userHeaders = failed.headers.filter { !$0.name.lowercased().hasPrefix("upstash-workflow-") }
        let defaults = old.defaults
        var first = QueuedMessage(
            role: .workflow, runId: old.id, destination: old.endpoint ?? failed.destination,
            headers: [ForwardedHeader("Upstash-Workflow-Sdk-Version", "1")] + (userHeaders.isEmpty ? defaults?.headers ?? [] : userHeaders),
            contentType: "application/json", retries: defaults?.retries ?? failed.retries, retryDelay: defaults?.retryDelay ?? failed.retryDelay,
            timeoutMilliseconds: defaults?.timeoutMilliseconds, failureCallback: failed.failureCallback ?? defaults?.failureCallback,
            runIdHeader: old.id, flowControl: defaults?.flowControl, dueAt: failed.dueAt)
        // The callback's SDK reads a step delivery's log as it read the callback's.
        first.fetchesLog = failed.fetchesLog
        return first
    }

    /// Delivers one attempt of a claimed queued message and stores what follows. A failure of the
    /// store leaves the message leased; it is tried again when the lease is released.
    func deliverQueued(_ message: QueuedMessage) async {
        processing.queued.insert(message.id)
        do {
            try await attempt(message)
        } catch where error is LeaseLapsed || Task.isCancelled {
            // Given up (its lease lapsed unrenewed) or left by a shutdown: it stays leased and is
            // delivered again once its lease ends.
        } catch {
            logger.error(
                "queued message \(message.id) (\(message.role.rawValue)) could not be processed: \(error)",
                metadata: ["run_id": .string(message.runId ?? "-")])
        }
        processing.queued.remove(message.id)
        queueChanged()
        delivered(message.inFlightKey)
    }

    private func attempt(_ message: QueuedMessage) async throws {
        if message.role == .waitTimeout { return try await fireWaitTimeout(message) }
        let startedAt = clock()
        var run: RunRecord?
        if let runId = message.runId { run = try await store.run(id: runId) }
        var body = message.body ?? []
        var initialPayload: [UInt8] = []
        if message.servesItsRun, run?.status != .running {
            // The run ended (canceled, finished by its cleanup call) after this was queued, or
            // while an earlier attempt was in flight on a node that stopped.
            _ = try await store.finishAttempt(message, owner: owner, with: AttemptFollowUp(decidedAt: clock()))
            return
        }
        if message.role == .workflow, let run {
            (body, initialPayload) = try await deliveryBody(of: run, through: message.logPosition)
        }
        let sent = try await omitsBody(of: message, byteCount: body.count) ? [] : body
        let result = await target.deliver(message, body: sent, runCreatedAt: run?.createdAt, key: try await deliveryKey())
        var resolver = QueuedAttemptResolver(
            message: message, run: run, initialPayload: initialPayload, body: body, startedAt: startedAt, now: clock(),
            retryDelayScale: configuration.retryDelayScale, echoes: echoRedactors.redactor(for: message))
        var followUp = resolver.resolve(result)
        if followUp.failRun != nil, message.role == .callback, let run {
            // A call's callback failed its run: its failure callback's `sourceBody` is the run's initial payload.
            resolver.initialPayload = try await store.runLog(runId: run.id, through: 0).first?.body ?? []
            followUp = resolver.resolve(result)
        }
        if let failure = followUp.failRun {
            logger.warning(
                "run \(failure.runId) failed: \(failure.error.message)",
                metadata: ["run_id": .string(failure.runId), "workflow": .string(run?.workflow ?? ""), "outcome": "failed", "error_type": .string(failure.error.type)])
        }
        try requireLease(.queued(message.id))
        _ = try await committing("finish-attempt") { try await store.finishAttempt(message, owner: owner, with: followUp) }
        metrics.delivery(
            kind: message.role.rawValue, outcome: followUp.outcome, started: startedAt,
            finished: clock(), due: message.dueAt)
    }
}

extension WorkflowEngine {
    /// Whether `message`, whose body would be `byteCount` long, goes out empty, its SDK fetching
    /// the log (`LazyFetch`): only when the SDK will find the entry the delivery's message id
    /// names, at the delivery's position (a step delivery) or anywhere (a call's callback).
    func omitsBody(of message: QueuedMessage, byteCount: Int) async throws -> Bool {
        guard let lazyFetch = configuration.lazyFetch, lazyFetch.mayOmitBody(of: message, bytes: byteCount), let runId = message.runId else {
            return false
        }
        return try await store.logHolds(runId: runId, messageId: message.id, at: message.logPosition)
    }

    /// The body of a delivery of `run`'s log through `position` (the cached encoding plus the
    /// entries appended since) and the run's initial payload.
    func deliveryBody(of run: RunRecord, through position: Int?) async throws -> (body: [UInt8], initialPayload: [UInt8]) {
        let known = encodedLogs.count(of: run)
        let missing = position.map { $0 >= known } ?? true ? try await store.runLog(runId: run.id, from: known, through: position) : []
        // Another delivery of the run may have extended the cache meanwhile.
        guard encodedLogs.count(of: run) == known else {
            let log = try await store.runLog(runId: run.id, through: position)
            return (RawStepArray(log).jsonBytes, log.first?.body ?? [])
        }
        return encodedLogs.body(of: run, appending: missing, through: position)
    }
}

/// Why a publish request stored nothing.
public enum PublishRefusal: Error, Sendable, Equatable {
    /// A message's headers are invalid; the error names which.
    case invalid(ProtocolError)
    /// A message appends to a run that does not exist.
    case unknownRun(String)
    /// A message appends to a run that has ended.
    case runEnded(RunStatus)
    /// A message names a URL group that does not exist.
    case unknownURLGroup(String)
    /// A trigger chose the id of a run of another workflow.
    case runIdTaken(String)
    /// A trigger chose the id of a run of its workflow still in progress.
    case runInProgress(String)
    /// A step or wait names a YAML run.
    case yamlRun(String)

    /// Why the store refused a publication; `nil` when it took it.
    public init?(_ result: PublicationResult) {
        switch result {
        case .stored, .redelivered, .deduplicated: return nil
        case .unknownRun(let id): self = .unknownRun(id)
        case .runEnded(let status): self = .runEnded(status)
        case .runIdTaken(let id): self = .runIdTaken(id)
        case .runInProgress(let id): self = .runInProgress(id)
        case .yamlRun(let id): self = .yamlRun(id)
        case .invokeTooDeep(let id):
            self = .invalid(ProtocolError(
                "run '\(id)' is invoked runs \(RunRecord.maximumInvokeDepth) deep (a workflow that invokes itself without end?); the run was not started"))
        }
    }
}

extension QueuedMessage {
    /// The key of its delivery among the engine's deliveries in flight (`q<id>`; a run's are `m<n>`).
    var inFlightKey: String { "q" + id }
}
