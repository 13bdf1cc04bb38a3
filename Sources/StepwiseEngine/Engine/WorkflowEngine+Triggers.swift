import StepwiseExpressions
import StepwiseProtocol

/// Runs started through Upstash Workflow's REST API (`POST /v2/trigger/{workflowUrl}`, `POST
/// /v2/batch/trigger`): each is published as the trigger an SDK would publish
/// (`WorkflowTrigger`), through the same planner and store as every SDK run.
extension WorkflowEngine {
    /// A run a REST trigger asked for: its workflow URL, its options and initial payload.
    public struct TriggerRequest: Sendable {
        public var workflowUrl: String
        public var headers: HeaderFields
        public var body: [UInt8]
        /// The IP address of the client that asked.
        public var callerIp: String?

        /// A trigger of `workflowUrl` with `headers` (the run id in `Upstash-Workflow-RunId`, if
        /// chosen) and `body`; its `callerIp` is set by who knows the client.
        public init(workflowUrl: String, headers: HeaderFields, body: [UInt8]) {
            self.workflowUrl = workflowUrl
            self.headers = headers
            self.body = body
        }
    }

    /// A run a trigger started, or found started by an earlier trigger of the same run id.
    public struct TriggeredRun: Sendable, Equatable {
        public var runId: String
        public var createdAt: TimestampValue?
        public var deduplicated: Bool
    }

    /// Starts the runs `requests` ask for, all or none (a refusal names its batch item when
    /// `isBatch`); a request without a run id gets a fresh one.
    public func trigger(_ requests: [TriggerRequest], isBatch: Bool) async throws -> Result<[TriggeredRun], PublishRefusal> {
        var messages: [PublishedMessage] = []
        var runIds: [String] = []
        for (index, request) in requests.enumerated() {
            do throws(ProtocolError) {
                let runId = try Self.chosenRunId(request.headers) ?? RunIdentifier.fresh()
                var message = try WorkflowTrigger.message(workflowUrl: request.workflowUrl, runId: runId, headers: request.headers, body: request.body)
                message.callerIp = request.callerIp
                messages.append(message)
                runIds.append(runId)
            } catch {
                return .failure(.invalid(isBatch ? ProtocolError("batch item \(index): \(error.message)") : error))
            }
        }
        // A chosen id of another workflow's run, or one id given to two workflows in a batch,
        // is refused (`runIdTaken`) by the transaction that would start the run, never adopted.
        switch try await publish(messages, batchItems: isBatch ? Array(messages.indices) : nil) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let results):
            var runs: [TriggeredRun] = []
            for (runId, result) in zip(runIds, results) {
                let deduplicated = if case .deduplicated = result { true } else { false }
                runs.append(TriggeredRun(runId: runId, createdAt: try await store.run(id: runId)?.createdAt, deduplicated: deduplicated))
            }
            return .success(runs)
        }
    }

    /// The run id a trigger chose in `Upstash-Workflow-RunId`, checked as every client's; `nil` when it chose none.
    private static func chosenRunId(_ headers: HeaderFields) throws(ProtocolError) -> String? {
        guard let chosen = headers["Upstash-Workflow-RunId"] else { return nil }
        if let problem = RunIdentifier.clientProblem(chosen) { throw ProtocolError("Upstash-Workflow-RunId: \(problem)") }
        return chosen
    }
}
