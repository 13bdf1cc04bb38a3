import StepwiseExpressions
import StepwiseLanguage

/// The flow-control keys of a run (`concurrency.key`, `rate_limit.key`), evaluated once when the
/// run starts: they may use `input` and `run`, not steps.
public struct FlowControlKeys: Sendable, Equatable {
    public var concurrency: String?
    public var rate: String?

    /// Evaluates `workflow`'s keys for a run; throws the expression error of a key that fails.
    public init(workflow: Workflow, input: Value, runId: String) throws(EvaluationError) {
        let renderer = ValueRenderer(variables: ["input": input, "run": ["id": .string(runId), "workflow": .string(workflow.name.value)]], secrets: nil)
        concurrency = try workflow.concurrency.map { control throws(EvaluationError) in try renderer.text(control.key) }
        rate = try workflow.rateLimit.map { control throws(EvaluationError) in try renderer.text(control.key) }
    }
}
