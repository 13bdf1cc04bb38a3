import StepwiseExpressions
import StepwiseLanguage

/// The flow-control keys of a run (`concurrency.key`, `rate_limit.key`), evaluated once when the
/// run starts: they may use `input` and `run`, not steps.
public struct FlowControlKeys: Sendable, Equatable {
    public var concurrency: String?
    public var rate: String?

    /// Evaluates `workflow`'s keys for a run; throws the expression error of a key that fails, or
    /// one saying that a key holds a control character (the flow-control routes refuse it, and
    /// PostgreSQL cannot store a NUL) or is a QStash queue's (`Concurrency.reservedKeyPrefix`).
    public init(workflow: Workflow, input: Value, runId: String) throws(EvaluationError) {
        let input = InputNormalizer.normalized(input, of: workflow)
        let renderer = ValueRenderer(variables: ["input": input, "run": ["id": .string(runId), "workflow": .string(workflow.name.value)]], secrets: nil)
        concurrency = try workflow.concurrency.map { control throws(EvaluationError) in try Self.key(renderer.text(control.key), "concurrency") }
        rate = try workflow.rateLimit.map { control throws(EvaluationError) in try Self.key(renderer.text(control.key), "rate limit") }
    }

    private static func key(_ text: String, _ what: String) throws(EvaluationError) -> String {
        if text.containsControlCharacter { throw EvaluationError("the \(what) key holds a control character") }
        if text.hasPrefix(Concurrency.reservedKeyPrefix) {
            throw EvaluationError("the \(what) key '\(text)' is reserved: keys starting with '\(Concurrency.reservedKeyPrefix)' are the QStash queues' own")
        }
        return text
    }
}
