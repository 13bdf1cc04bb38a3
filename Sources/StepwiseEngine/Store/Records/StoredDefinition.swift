import StepwiseExpressions
import StepwiseRuntime

/// A definition the engine has seen, kept forever so that runs pinned to it can finish.
public struct StoredDefinition: Sendable, Equatable {
    public var hash: String
    public var workflow: String
    public var source: String
}
