extension CELExpression {
    /// Evaluates the expression with `variables` in scope, within `limits`.
    ///
    /// Throws `EvaluationError` with the offset of the failing node; never traps, whatever the input.
    public func evaluate(
        _ variables: [String: Value] = [:], limits: EvaluationLimits = .standard
    ) throws(EvaluationError) -> Value {
        let evaluator = ExpressionEvaluator(budget: EvaluationBudget(limits))
        return try evaluator.evaluate(self, in: Scope(variables))
    }
}
