import StepwiseExpressions
import StepwiseRuntime

/// A definition the engine has seen, kept forever so that runs pinned to it can finish.
public struct StoredDefinition: Sendable, Equatable {
    public var hash: String
    public var workflow: String
    public var source: String

    /// The definition of `workflow` with `source`, whose hash is `hash`.
    public init(hash: String, workflow: String, source: String) {
        self.hash = hash
        self.workflow = workflow
        self.source = source
    }
}
