import StepwiseExpressions
import StepwiseLanguage

/// Turns a `ValueTemplate` into a value: literals as they are, templates evaluated with the run's
/// variables, and `{secret: NAME}` resolved from `secrets` where secrets are allowed (never kept).
struct ValueRenderer {
    let variables: [String: Value]
    let secrets: (any SecretSource)?

    func render(_ template: ValueTemplate) throws(EvaluationError) -> Value {
        switch template.kind {
        case .literal(let value):
            return value
        case .template(let parsed, _, _):
            let value = try parsed.render(variables)
            guard !value.isWritten(largerThan: WorkflowInterpreter.maximumValueBytes) else {
                throw EvaluationError("the value is larger than \(WorkflowInterpreter.maximumValueBytes >> 20) MiB as JSON; keep large data outside the run and pass references to it")
            }
            return value
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try render(item)) }
            return .list(values)
        case .map(let entries):
            var map = ValueMap()
            for entry in entries { map[.string(entry.key)] = try render(entry.value) }
            return .map(map)
        case .secret(let name):
            guard let secrets else { throw EvaluationError("secret '\(name)' cannot be used here") }
            guard let value = secrets.value(of: name) else {
                throw EvaluationError("secret '\(name)' is not set in the runner's environment")
            }
            return .string(value)
        }
    }

    /// A rendered value as header or query text: strings as they are, other values as JSON.
    func text(_ template: ValueTemplate) throws(EvaluationError) -> String {
        let value = try render(template)
        if case .string(let text) = value { return text }
        return value.jsonText()
    }
}

extension ValueTemplate {
    /// The value of a template evaluated without variables (a schedule's input); throws the
    /// expression's error when it needs one.
    public func constantValue() throws(EvaluationError) -> Value {
        try ValueRenderer(variables: [:], secrets: nil).render(self)
    }
}
