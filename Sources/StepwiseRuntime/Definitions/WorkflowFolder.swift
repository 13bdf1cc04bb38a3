import Foundation
import StepwiseLanguage

/// Loads every workflow file of a folder, validating each: the set a runner serves.
public struct WorkflowFolder: Sendable {
    /// The valid definitions, by workflow name.
    public let definitions: [String: WorkflowDefinition]
    /// Every file with its diagnostics (including those with errors, which are not served).
    public let files: [WorkflowFile]

    /// Reads `path` (a folder of `*.yaml`/`*.yml`, searched recursively).
    public init(path: String) throws {
        var isFolder: ObjCBool = false
        // The enumerator of a missing folder enumerates nothing: a runner would serve no workflow, silently.
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw WorkflowFolderError(message: "there is no workflows folder at '\(path)'")
        }
        // A file that cannot be read is an error of its own, reported with every other.
        self.init(read: WorkflowSourceReader.files(in: path).map(WorkflowFile.reading))
    }

    /// Validates the given `(path, source)` pairs as one folder.
    public init(sources: [(path: String, text: String)]) {
        self.init(read: sources.map { WorkflowFile(path: $0.path, source: $0.text) })
    }

    private init(read: [WorkflowFile]) {
        let names = Set(read.compactMap { $0.workflow?.name.value })
        files = WorkflowFile.checkingNames(read.map { $0.checkingInvokes(against: names) })
        var definitions: [String: WorkflowDefinition] = [:]
        for file in files where !file.hasErrors {
            guard let workflow = file.workflow else { continue }
            definitions[workflow.name.value] = WorkflowDefinition(workflow: workflow, source: file.source)
        }
        self.definitions = definitions
    }

    /// Whether any file has errors.
    public var hasErrors: Bool { files.contains(where: \.hasErrors) }

    /// The diagnostics of the files that have any, as `stepwise validate` prints them.
    public var diagnosticsText: String { DiagnosticFormat.text.render(files.filter { !$0.diagnostics.isEmpty }) }
}

/// A workflows folder that cannot be read.
public struct WorkflowFolderError: Error, CustomStringConvertible {
    /// What could not be read, and where.
    public let message: String
    /// The message.
    public var description: String { message }
}
