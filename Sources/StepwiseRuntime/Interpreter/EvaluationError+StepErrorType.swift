import StepwiseExpressions

extension EvaluationError {
    /// The `type` of the step failure this error causes: `SecretMissing` for a secret the
    /// environment lacks (a deployment's mistake, which `retry.on` and `catch` can tell apart),
    /// `InvalidRequest` for a request HTTP cannot carry, `ExpressionError` otherwise.
    var stepErrorType: String {
        switch kind {
        case .secretMissing: "SecretMissing"
        case .unsendable: "InvalidRequest"
        case .invalidOperation, .budgetExceeded: "ExpressionError"
        }
    }
}
