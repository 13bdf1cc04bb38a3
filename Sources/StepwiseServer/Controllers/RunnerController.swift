import HTTPTypes
import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The runner endpoint: `POST /workflows/{name}` starts a run of a YAML workflow (idempotent with
/// `Upstash-Workflow-RunId`).
struct RunnerController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.post("workflows/:name") { request, context in await trigger(request, context) }
    }

    /// Upstash's header that makes a start idempotent.
    static let runIdHeader = HTTPField.Name("Upstash-Workflow-RunId")
    /// Upstash's header naming a run's label.
    static let labelHeader = HTTPField.Name("Upstash-Label")

    private func trigger(_ request: Request, _ context: StepwiseRequestContext) async -> Response {
        let name = context.decoded("name") ?? ""
        let input: Value
        switch await RequestBody.json(request) {
        case .success(let value): input = value
        case .failure(let answer): return answer.response
        }
        // An empty id is refused as an id, not taken for none: the client meant its start to be idempotent.
        let runId = Self.runIdHeader.flatMap { request.headers[$0] }
        let label = Self.labelHeader.flatMap { request.headers[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        do throws(ProtocolError) {
            try LabelHeader.check(label)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do throws(StartError) {
            let (run, created) = try await engine.start(workflow: name, input: input, runId: runId, label: label, callerIp: context.callerIp)
            var answer = ValueMap([("workflowRunId", .string(run.id))])
            if !created { answer[.string("deduplicated")] = .bool(true) }
            return JSONResponse.make(.ok, .map(answer))
        } catch {
            switch error {
            case .unknownWorkflow(let workflow):
                let known = await engine.workflows.keys.sorted().map(Value.string)
                return JSONResponse.error(.notFound, "no workflow named '\(workflow)'", [("workflows", .list(known))])
            case .invalidInput(let problems):
                return JSONResponse.error(.badRequest, "the input does not match the workflow's input schema", [("problems", .list(problems.map(Value.string)))])
            case .invalidRunId:
                return JSONResponse.error(.badRequest, error.description)
            case .runIdTaken:
                return JSONResponse.error(.conflict, error.description)
            case .storage(let message):
                return failures.answer("the run could not be stored", message)
            case .unavailable(let unavailable):
                return failures.answer("the run could not be stored", unavailable)
            }
        }
    }
}
