import StepwiseExpressions

extension EvaluationError {
    /// The `type` of the step failure this error causes: `SecretMissing` for a secret the
    /// environment lacks (a deployment's mistake, which `retry.on` and `catch` can tell apart),
    /// `ExpressionError` otherwise.
    var stepErrorType: String {
        kind == .secretMissing ? "SecretMissing" : "ExpressionError"
    }
}
