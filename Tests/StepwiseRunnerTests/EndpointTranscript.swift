import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
@testable import StepwiseRunner
import StepwiseRuntime
import StepwiseTesting

/// A `WorkflowEndpoint` fed recorded deliveries, with QStash and the workflow's own requests
/// answered by scripted transports that record what the runner sent: transcript tests without
/// a server.
struct EndpointTranscript {
    static let url = "http://runner.test/workflows/"
    static let qstashURL = "http://qstash.test"
    let definition: WorkflowDefinition
    let endpoint: WorkflowEndpoint
    let qstash: ScriptedTransport
    let api: ScriptedTransport

    /// An endpoint serving `yaml`, whose requests are answered from `api`; its runner remembers
    /// the states of `warmRuns` runs (0: every delivery replays from the start).
    init(
        _ yaml: String, api: [String: [Result<IncomingResponse, TransportFailure>]] = [:], events: (@Sendable (String) -> Void)? = nil,
        warmRuns: Int = 0
    ) async throws {
        definition = try StepwiseTesting.definition(yaml)
        qstash = ScriptedTransport([Self.qstashURL: [ScriptedTransport.json(200, "[]")]])
        self.api = ScriptedTransport(api)
        let folder = WorkflowFolder(sources: [("\(definition.name).yaml", definition.source)])
        endpoint = await WorkflowEndpoint.serving(
            try DefinitionVersions(folder: folder, keptIn: nil),
            runner: WorkflowRunner(http: self.api, secrets: EnvironmentSecrets([:]), warmCapacity: warmRuns, clock: WorkflowEngine.systemTime),
            qstash: QStashClient(connection: OrchestratorConnection(url: Self.qstashURL, token: "qstash-token"), http: qstash),
            signingKeys: nil, secrets: EnvironmentSecrets([:]), http: self.api, events: EndpointEventLog(write: events, clock: WorkflowEngine.systemTime),
            clock: WorkflowEngine.systemTime)
    }

    var workflowURL: String { Self.url + definition.name }

    /// Delivers `log` (a raw step array) as QStash would, with `headers` added.
    func deliver(_ log: [RawStep], runId: String = "wfr_t", headers: [(String, String)] = []) async -> EndpointReply {
        await endpoint.handle(EndpointRequest(
            workflow: definition.name, url: workflowURL,
            headers: HeaderFields([
                ("Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Workflow-RunId", runId), (RunMessages.versionHeader, definition.hash),
            ] + headers),
            body: RawStepArray(log).jsonBytes))
    }

    /// The QStash requests made since `count` requests.
    func qstashRequests(after count: Int) -> [OutgoingRequest] { Array(qstash.requests.dropFirst(count)) }

    /// The entry of the initial payload.
    static func initial(_ payload: String = "{}") -> RawStep { RawStep(messageId: "msg_0", body: Array(payload.utf8)) }

    /// The entry of a result step, as the runner writes it.
    static func result(_ id: Int, _ name: String, out: Value, type: StepType = .run) -> RawStep {
        RawStep(messageId: "msg_r\(id)_\(name)", body: RunMessages.stepBytes(JournalEntry(stepId: id, stepName: name, stepType: type, out: out)))
    }

    /// The entry of a plan step.
    static func plan(_ name: String, type: StepType = .run) -> RawStep {
        let entry = JournalEntry(stepId: 0, stepName: name, stepType: type, concurrent: 2, targetStep: RunMessages.groupStepId(name))
        return RawStep(messageId: "msg_p_\(name)", body: RunMessages.stepBytes(entry))
    }

    /// The step JSON items of a `POST /v2/batch` request.
    static func batchSteps(_ request: OutgoingRequest) throws -> [StepJSON] {
        guard case .list(let items) = try Value(json: String(decoding: request.body ?? [], as: UTF8.self)) else { return [] }
        return try items.map { item in
            guard case .map(let fields) = item, case .string(let body)? = fields[.string("body")] else { throw WaitTimeout(description: "a batch item has no body") }
            return try StepJSON(bytes: Array(body.utf8))
        }
    }

    /// The first batch item of a request.
    static func firstItem(_ request: OutgoingRequest) throws -> Value? {
        guard case .list(let items) = try Value(json: String(decoding: request.body ?? [], as: UTF8.self)) else { return nil }
        return items.first
    }

    /// The headers of the batch items of a request.
    static func batchHeaders(_ request: OutgoingRequest) throws -> [HeaderFields] {
        guard case .list(let items) = try Value(json: String(decoding: request.body ?? [], as: UTF8.self)) else { return [] }
        return items.map { item in
            guard case .map(let fields) = item, case .map(let headers)? = fields[.string("headers")] else { return HeaderFields() }
            return HeaderFields(headers.entries.compactMap { key, value in
                guard case .string(let name) = key, case .string(let text) = value else { return nil }
                return (name, text)
            })
        }
    }
}

/// An HTTP response for the runner's requests.
func answer(_ status: Int, _ body: String) -> [Result<IncomingResponse, TransportFailure>] {
    [ScriptedTransport.json(status, body)]
}
