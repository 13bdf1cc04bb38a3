extension CELExpression {
    /// Evaluates the expression with `variables` in scope, within `limits`.
    ///
    /// Throws `EvaluationError` with the offset of the failing node; never traps, whatever the input.
    public func evaluate(
        _ variables: [String: Value] = [:], limits: EvaluationLimits = .standard
    ) throws(EvaluationError) -> Value {
        let evaluator = ExpressionEvaluator(budget: EvaluationBudget(limits))
        let value = try evaluator.evaluate(self, in: Scope(variables))
        // A part of a variable is as large as the variable, which was bounded where it was made.
        if !isSelection { try value.checkKeepable(within: limits) }
        return value
    }

    /// Whether the expression only selects a part of a variable (`steps.fetch.body`, `input.items[0]`).
    /// `steps` itself is no such part: the map of every step's result is bounded only step by step.
    var isSelection: Bool {
        if case .identifier(let name) = kind { return name != "steps" }
        return isPartOfVariable
    }

    /// A variable, or a field or a literal index of one.
    private var isPartOfVariable: Bool {
        switch kind {
        case .identifier: true
        case .select(let base, _, _): base.isPartOfVariable
        case .index(let base, let index, _): base.isPartOfVariable && index.isLiteral
        default: false
        }
    }

    private var isLiteral: Bool {
        if case .literal = kind { return true }
        return false
    }
}
