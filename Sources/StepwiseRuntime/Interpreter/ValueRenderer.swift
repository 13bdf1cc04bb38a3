import StepwiseExpressions
import StepwiseLanguage

/// Turns a `ValueTemplate` into a value: literals as they are, templates evaluated with the run's
/// variables, and `{secret: NAME}` resolved from `secrets` where secrets are allowed (never kept).
struct ValueRenderer {
    let variables: [String: Value]
    let secrets: (any SecretSource)?
    /// The bounds of the expressions and of the whole value.
    var limits = EvaluationLimits.standard

    /// The value of `template`, at most `limits.maximumWrittenBytes` written as JSON.
    func render(_ template: ValueTemplate) throws(EvaluationError) -> Value {
        let value = try parts(template)
        if Self.assemblesValue(template) { try value.checkKeepable(within: limits) }
        return value
    }

    /// Whether `template` puts its value together from several: a list, a map or a text of several
    /// parts may be larger than each expression in it, whose value its evaluation bounded.
    private static func assemblesValue(_ template: ValueTemplate) -> Bool {
        switch template.kind {
        case .list, .map: true
        case .template(let parsed, _, _): parsed.singleExpression == nil
        case .literal, .secret: false
        }
    }

    private func parts(_ template: ValueTemplate) throws(EvaluationError) -> Value {
        switch template.kind {
        case .literal(let value):
            return value
        case .template(let parsed, _, _):
            return try parsed.render(variables, limits: limits)
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try parts(item)) }
            return .list(values)
        case .map(let entries):
            var map = ValueMap()
            for entry in entries { map[.string(entry.key)] = try parts(entry.value) }
            return .map(map)
        case .secret(let name):
            guard let secrets else { throw EvaluationError("secret '\(name)' cannot be used here") }
            guard let value = secrets.value(of: name) else {
                throw EvaluationError("secret '\(name)' is not set in the runner's environment", kind: .secretMissing)
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
