import StepwiseExpressions

/// A workflow file read and checked: its source, the workflow when it could be read, and every
/// diagnostic, sorted by position.
public struct WorkflowFile: Sendable {
    /// The path as given by the user, used in messages.
    public let path: String
    public let source: String
    public let workflow: Workflow?
    public let diagnostics: [Diagnostic]

    /// Reads, decodes and validates `source`. `knownWorkflows` (names in the same folder) lets
    /// `invoke` targets be checked (`checkingInvokes(against:)`).
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
        let semantic = workflow.map(WorkflowValidator.validate) ?? []
        let invokes = knownWorkflows.flatMap { known in workflow.map { Self.invokeDiagnostics($0, known: known) } } ?? []
        diagnostics = Self.sorted(yamlDiagnostics + decodingDiagnostics + semantic + invokes)
    }

    /// This file with its `invoke` targets checked against `known`, the workflow names of its
    /// folder: a file read once serves to learn the folder's names and is then checked by them.
    public func checkingInvokes(against known: Set<String>) -> WorkflowFile {
        guard let workflow else { return self }
        let unknown = Self.invokeDiagnostics(workflow, known: known)
        guard !unknown.isEmpty else { return self }
        return WorkflowFile(path: path, source: source, workflow: workflow, diagnostics: Self.sorted(diagnostics + unknown))
    }

    /// An error for each `invoke` of `workflow` naming a workflow not in `known`.
    private static func invokeDiagnostics(_ workflow: Workflow, known: Set<String>) -> [Diagnostic] {
        workflow.invokedWorkflows.filter { !known.contains($0.value) }.map { name in
            Diagnostic(
                .unknownWorkflow, "invoke names workflow '\(name.value)', which is not in this folder", at: name.span,
                hint: SpellingSuggestion.closest(to: name.value, among: known.filter(WorkflowDecoder.isValidName)).map { "did you mean '\($0)'?" })
        }
    }

    private static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.sorted { $0.span != $1.span ? $0.span < $1.span : $0.code.rawValue < $1.code.rawValue }
    }

    private init(path: String, source: String, workflow: Workflow?, diagnostics: [Diagnostic]) {
        self.path = path
        self.source = source
        self.workflow = workflow
        self.diagnostics = diagnostics
    }

    /// A file that could not be read (missing, unreadable, not UTF-8): one error saying why, so
    /// that checking a folder reports it with the other files instead of stopping.
    public static func unreadable(path: String, reason: String) -> WorkflowFile {
        WorkflowFile(path: path, source: "", workflow: nil, diagnostics: [
            Diagnostic(.yamlSyntax, "cannot read the file: \(reason)", at: .start),
        ])
    }

    /// Files of one folder, where a workflow name defined twice is an error in every file after
    /// the first that defines it (both would answer at `/workflows/<name>`).
    public static func checkingNames(_ files: [WorkflowFile]) -> [WorkflowFile] {
        var firstFile: [String: String] = [:]
        return files.map { file in
            guard let name = file.workflow?.name, !name.value.isEmpty else { return file }
            guard let first = firstFile[name.value] else {
                firstFile[name.value] = file.path
                return file
            }
            let duplicate = Diagnostic(
                .invalidWorkflowName, "workflow '\(name.value)' is also defined in \(first)", at: name.span,
                hint: "each workflow of a folder needs its own name: it is the URL path /workflows/<name>")
            return WorkflowFile(path: file.path, source: file.source, workflow: file.workflow, diagnostics: file.diagnostics + [duplicate])
        }
    }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Whether a stored version, read again, can still run: it has a workflow and no error but of
    /// rules that bind new versions only (`DiagnosticCode.bindsNewVersionsOnly`).
    public var runsAsStored: Bool {
        workflow != nil && !diagnostics.contains { $0.severity == .error && !$0.code.bindsNewVersionsOnly }
    }
}
