import Crypto
import StepwiseExpressions
import StepwiseLanguage

/// A validated workflow and its source, identified by the SHA-256 of the source text; runs are
/// pinned to that hash, so a deploy never changes the definition under a running run.
public struct WorkflowDefinition: Sendable {
    /// The parsed workflow.
    public let workflow: Workflow
    /// The file's text, exactly as read.
    public let source: String
    /// The SHA-256 of `source`, in hex: the version runs are pinned to.
    public let hash: String

    /// The definition of `workflow`, read from `source`.
    public init(workflow: Workflow, source: String) {
        self.workflow = workflow
        self.source = source
        hash = Hex.encode(SHA256.hash(data: Array(source.utf8)))
    }

    /// The workflow's name.
    public var name: String { workflow.name.value }
}
