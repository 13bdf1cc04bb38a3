import Foundation
import Synchronization
import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol
import StepwiseRuntime

/// A folder of YAML workflows served as Upstash Workflow endpoints (§4.5 of the protocol notes):
/// a first invocation starts a run through QStash; each delivery of the run's log replays the
/// interpreter over it and submits the next step with the QStash calls the SDKs make. Everything
/// the runner needs comes from the request (the log, `Upstash-Retried`, the pinned version), so
/// it works behind Stepwise's engine or Upstash QStash alike, and keeps no state but a cache.
public struct WorkflowEndpoint: Sendable {
    /// The versions served, which a reload replaces (`reload`); each request reads them once.
    private let served: ServedVersions
    let runner: WorkflowRunner
    let qstash: QStashClient
    /// Verifies `Upstash-Signature` when signing keys are configured.
    let verifier: SignatureVerifier?
    let secrets: any SecretSource
    /// Sends the requests of `call` steps whose headers carry secrets (they never leave the runner).
    let http: any HTTPTransport
    let clock: @Sendable () -> TimestampValue
    let events: EndpointEventLog
    /// The logs of runs delivered lately, so a delivery decodes only what was appended.
    let logs = DeliveredLogCache()

    /// An endpoint serving `versions` with `runner` (every version registered with it), talking to
    /// its orchestrator through `qstash`, refusing unsigned deliveries when `signingKeys` are given.
    public static func serving(
        _ versions: DefinitionVersions, runner: WorkflowRunner, qstash: QStashClient, signingKeys: SigningKeys?, secrets: any SecretSource,
        http: any HTTPTransport, events: EndpointEventLog, clock: @escaping @Sendable () -> TimestampValue
    ) async -> WorkflowEndpoint {
        for definition in versions.all.values { runner.register(definition.workflow, hash: definition.hash) }
        return WorkflowEndpoint(
            versions: versions, runner: runner, qstash: qstash, signingKeys: signingKeys, secrets: secrets, http: http, events: events,
            clock: clock)
    }

    /// The versions served now.
    var versions: DefinitionVersions { served.versions.withLock { $0 } }

    /// Serves `versions` from now on (a reload of the workflows folder): new runs start on their
    /// current versions, and every version known before stays known to the runs pinned to it.
    public func reload(_ versions: DefinitionVersions) -> WorkflowReload {
        for definition in versions.all.values { runner.register(definition.workflow, hash: definition.hash) }
        return served.versions.withLock { served in
            let before = served.current
            served = versions.keeping(served)
            return WorkflowReload(before: before, after: served.current)
        }
    }

    private init(
        versions: DefinitionVersions, runner: WorkflowRunner, qstash: QStashClient, signingKeys: SigningKeys?, secrets: any SecretSource,
        http: any HTTPTransport, events: EndpointEventLog, clock: @escaping @Sendable () -> TimestampValue
    ) {
        served = ServedVersions(versions)
        self.runner = runner
        self.qstash = qstash
        verifier = signingKeys.map(SignatureVerifier.init(keys:))
        self.secrets = secrets
        self.http = http
        self.events = events
        self.clock = clock
    }

    /// Answers one request to the endpoint of `request.workflow`.
    public func handle(_ request: EndpointRequest) async -> EndpointReply {
        events.record(.endpointStart, runId: request.runId, ["workflow": .string(request.workflow)])
        if let refusal = verify(request) { return refusal }
        if request.flag("upstash-workflow-unknown-sdk") { return await restartFromUnknownSDK(request) }
        let isFailure = request.flag("upstash-workflow-failure-callback") || request.flag("upstash-workflow-is-failure")
        guard Self.isDelivery(request) else { return await firstInvocation(request) }
        do throws(EndpointReplyFailure) {
            if isFailure { return try await failureCallback(request) }
            return request.flag("upstash-workflow-callback") ? try await callback(request) : try await replay(request)
        } catch {
            return error.reply
        }
    }

    /// Whether a request to `url` signed with `signature` may carry a delivery's body (its run's
    /// whole log), checked before the body is read: with signing keys, only when the token is
    /// valid apart from the body it signs; without, when it is signed at all (nothing is verified).
    public func mayCarryDelivery(signature: String?, url: String) -> Bool {
        guard let signature else { return false }
        guard let verifier else { return true }
        return (try? verifier.claims(of: signature, now: Int64(clock().secondsSinceEpoch), leeway: Self.leeway, url: url)) != nil
    }

    /// Seconds of clock difference a signature's times are given.
    private static let leeway: Int64 = 5

    /// Whether `request` is a delivery of a run (a step, a callback, a failure callback) rather
    /// than the start of one.
    private static func isDelivery(_ request: EndpointRequest) -> Bool {
        request.flag("upstash-workflow-failure-callback") || request.flag("upstash-workflow-is-failure") || request.flag("upstash-workflow-callback")
            || request.headers["upstash-workflow-sdk-version"] != nil
    }

    /// A refusal when signing keys are configured and the request is not signed by them. The
    /// start of a run may instead carry the orchestrator's token as a bearer token: whoever may
    /// publish to the orchestrator may start a run, and a run this runner starts itself carries
    /// every option of its workflow (failure handling, version, flow control) from its first message.
    private func verify(_ request: EndpointRequest) -> EndpointReply? {
        guard let verifier else { return nil }
        guard let token = request.headers["upstash-signature"] else {
            if !Self.isDelivery(request), let bearer = request.headers["authorization"].flatMap(TokenMatch.bearer),
                TokenMatch.matches(bearer, qstash.connection.token)
            {
                return nil
            }
            return .error(
                401, type: "SignatureError",
                "the request has no Upstash-Signature; this endpoint accepts signed deliveries, and starts of runs that carry the orchestrator's token (Authorization: Bearer …)")
        }
        do {
            _ = try verifier.verify(
                token: token, body: request.body, now: Int64(clock().secondsSinceEpoch), leeway: Self.leeway, url: request.url)
            return nil
        } catch {
            return .error(401, type: "SignatureError", "the Upstash-Signature is not valid: \(error.message)")
        }
    }

    /// Upstash's REST trigger (`/v2/trigger`, §3.3) delivers a raw step array with only the
    /// initial payload and `Upstash-Workflow-Unknown-Sdk`: the run is started again, with the same
    /// id, as this runner starts runs.
    private func restartFromUnknownSDK(_ request: EndpointRequest) async -> EndpointReply {
        guard let payload = (try? RawStepArray(jsonBytes: request.body))?.initialPayload else {
            return .nonRetryable(type: "WorkflowError", "a delivery with Upstash-Workflow-Unknown-Sdk must carry a raw step array with the initial payload")
        }
        var restarted = request
        restarted.body = payload
        return await firstInvocation(restarted, retriggered: true)
    }

    /// A request without the protocol's headers starts a run (§3.2): the payload becomes the
    /// run's input and the run's first message is published to this endpoint.
    private func firstInvocation(_ request: EndpointRequest, retriggered: Bool = false) async -> EndpointReply {
        guard let definition = versions.current[request.workflow] else {
            return .error(404, type: "NotFound", "no workflow named '\(request.workflow)'; known: \(versions.current.keys.sorted().joined(separator: ", "))")
        }
        let input = ProtocolJournal.input(request.body)
        if let schema = definition.workflow.input {
            let problems = InputValidator.problems(of: input, against: schema)
            guard problems.isEmpty else {
                return .error(400, type: "InvalidInput", "the input does not match the workflow's input schema: " + problems.joined(separator: "; "))
            }
        }
        let derived = request.runId == nil ? request.headers["upstash-message-id"].map(Self.runId(startedBy:)) : nil
        let runId = request.runId ?? derived ?? "wfr_" + RandomHex.digits(32)
        let flowControl: FlowControl?
        do {
            flowControl = try Self.flowControl(of: definition.workflow, input: input, runId: runId)
        } catch {
            return .error(400, type: "InvalidInput", "the workflow's flow-control key cannot be evaluated for this input: \(error.message)")
        }
        let messages = messages(runId: runId, url: request.url, definition, flowControl: flowControl)
        do {
            var trigger = messages.trigger(payload: request.body, contentType: request.headers["content-type"])
            // A QStash retry of the message that started the run derives its id again: a repeat of
            // this endpoint's own trigger, which the engine deduplicates, never a client's reuse of
            // the id (refused while the run is in progress, a new run once it ended).
            if retriggered || derived != nil { trigger.headers.append("Upstash-Workflow-Trigger-By-Sdk", "true") }
            try await qstash.publish(trigger)
        } catch {
            events.record(.error, runId: runId, ["message": .string(error.message)])
            let status = error.status.map { [400, 409].contains($0) ? $0 : 502 } ?? 502
            return .error(status, type: "QStashError", "the run could not be started: \(error.message)")
        }
        events.record(.submitFirstInvocation, runId: runId, ["workflow": .string(definition.name), "version": .string(definition.hash)])
        return EndpointReply(status: 200, body: ["workflowRunId": .string(runId)])
    }

    /// The run a delivery or callback belongs to and the definition it is pinned to (its
    /// `Stepwise-Workflow-Version`); the answer failing the run when either is missing.
    func pinnedRun(_ request: EndpointRequest) throws(EndpointReplyFailure) -> (runId: String, definition: WorkflowDefinition) {
        guard let runId = request.runId else {
            throw EndpointReplyFailure(.nonRetryable(type: "WorkflowError", "the delivery has no Upstash-Workflow-RunId header"))
        }
        if let version = request.headers["upstash-workflow-sdk-version"], version != "1" {
            throw EndpointReplyFailure(.nonRetryable(type: "WorkflowError", "this endpoint speaks version 1 of the workflow protocol, not \(version)"))
        }
        guard let hash = request.headers[RunMessages.versionHeader] else {
            guard let current = versions.current[request.workflow] else {
                throw EndpointReplyFailure(.nonRetryable(type: "UnknownWorkflow", "no workflow named '\(request.workflow)' is served here"))
            }
            return (runId, current)
        }
        guard let definition = versions.definition(request.workflow, hash: hash) else {
            // Retryable: during a rolling deploy another replica may still hold the version.
            throw EndpointReplyFailure(.error(
                500, type: "UnknownVersion",
                "version \(hash) of workflow '\(request.workflow)' is not known to this runner (it serves \(versions.current[request.workflow]?.hash ?? "no version")); keep the versions folder across deploys, shared by every replica, so runs started before a deploy can finish"
            ))
        }
        return (runId, definition)
    }

    /// The messages of run `runId` of `definition` at `url`, admitted under `flowControl`.
    func messages(runId: String, url: String, _ definition: WorkflowDefinition, flowControl: FlowControl?) -> RunMessages {
        RunMessages(
            runId: runId, workflowURL: url, version: definition.hash, retries: Self.retries(of: definition.workflow),
            failureCallback: definition.workflow.onFailure.isEmpty ? definition.workflow.failureURL?.value : url, flowControl: flowControl)
    }

    /// The messages of the run a delivery belongs to, with the flow control its headers carry.
    func messages(runId: String, _ request: EndpointRequest, _ definition: WorkflowDefinition) -> RunMessages {
        let flowControl = request.headers[RunMessages.flowKeyHeader].flatMap { key in
            try? FlowControl(key: key, value: request.headers[RunMessages.flowValueHeader])
        }
        return messages(runId: runId, url: request.url, definition, flowControl: flowControl)
    }

    /// The run a QStash message starts (a schedule's tick, a publish to the endpoint): derived
    /// from its message id, so a delivery QStash tries again starts no second run.
    static func runId(startedBy messageId: String) -> String {
        RunMessages.derivedRunId("message/" + messageId)
    }

    /// A workflow's `concurrency` and `rate_limit` as one QStash flow-control setting for a run;
    /// `nil` when it has neither. QStash counts both limits under one key: when the two keys
    /// differ, only `concurrency` is applied (the runner warns at start).
    static func flowControl(of workflow: Workflow, input: Value, runId: String) throws(EvaluationError) -> FlowControl? {
        guard workflow.concurrency != nil || workflow.rateLimit != nil else { return nil }
        let keys = try FlowControlKeys(workflow: workflow, input: input, runId: runId)
        let rate = workflow.rateLimit.flatMap { limit in keys.concurrency == nil || keys.concurrency == keys.rate ? limit : nil }
        guard let key = keys.concurrency ?? keys.rate else { return nil }
        return FlowControl(
            key: key, parallelism: workflow.concurrency?.limit.value, rate: rate?.limit.value,
            period: rate.map { WireDuration(milliseconds: Int64(clamping: $0.period.value.nanoseconds / 1_000_000)) })
    }

    /// `Upstash-Retries` for a workflow's messages: QStash's default 3, or more when a step's
    /// retry policy allows more tries.
    static func retries(of workflow: Workflow) -> Int {
        let attempts = workflow.allSteps.map { $0.retry?.attempts ?? workflow.retries + 1 }.max() ?? 1
        return max(3, attempts - 1)
    }
}

/// The versions an endpoint serves, shared by its copies and replaced by a reload.
private final class ServedVersions: Sendable {
    let versions: Mutex<DefinitionVersions>

    init(_ versions: DefinitionVersions) {
        self.versions = Mutex(versions)
    }
}
