/// A workflow file read and checked: its source, the workflow when it could be read, and every
/// diagnostic, sorted by position.
public struct WorkflowFile: Sendable {
    /// The path as given by the user, used in messages.
    public let path: String
    public let source: String
    public let workflow: Workflow?
    public let diagnostics: [Diagnostic]

    /// Reads, decodes and validates `source`. `knownWorkflows` (names in the same folder) lets
    /// `invoke` targets be checked.
    public init(path: String, source: String, knownWorkflows: Set<String>? = nil) {
        self.path = path
        self.source = source
        let (root, yamlDiagnostics) = YAMLLoader.load(source)
        guard let root else {
            workflow = nil
            diagnostics = yamlDiagnostics
            return
        }
        let (workflow, decodingDiagnostics) = WorkflowDecoder.decode(root)
        self.workflow = workflow
        let semantic = workflow.map { WorkflowValidator.validate($0, knownWorkflows: knownWorkflows) } ?? []
        diagnostics = (yamlDiagnostics + decodingDiagnostics + semantic).sorted {
            $0.span != $1.span ? $0.span < $1.span : $0.code.rawValue < $1.code.rawValue
        }
    }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
