import StepwiseExpressions
import StepwiseRuntime

/// Which part of a run is being delivered: its steps, or `on_failure` after it failed.
public enum RunPhase: String, Sendable, Hashable, Codable {
    case main
    case failureHandler = "failure_handler"
}
