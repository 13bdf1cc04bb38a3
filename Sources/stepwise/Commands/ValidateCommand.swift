import ArgumentParser
import Foundation
import StepwiseLanguage

/// `stepwise validate`: checks workflow files the way CI should, before anything is deployed.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow files and report every problem with its file, line and column.",
        discussion: """
            Exit status: 0 when no errors were found, 1 when there are errors (with --strict, \
            warnings count as errors too), 2 for usage or I/O errors.
            """
    )

    @Argument(help: "Workflow files or folders (searched for *.yaml and *.yml).")
    var paths: [String] = ["workflows"]

    @Option(name: .long, help: "Output format: text, github, json or sarif.")
    var format: DiagnosticFormat = .text

    @Flag(name: .long, help: "Fail on warnings too.")
    var strict = false

    func run() throws {
        let sources = try WorkflowSources.paths(paths)
        let read = sources.map(WorkflowFile.reading)
        let names = try knownWorkflows(for: read.compactMap(\.workflow), in: sources)
        let files = WorkflowFile.checkingNames(read.map { $0.checkingInvokes(against: names) })
        print(format.render(files), terminator: "")
        let failing = files.contains { file in
            file.diagnostics.contains { $0.severity == .error || (strict && $0.severity == .warning) }
        }
        if failing { throw ExitCode.failure }
    }

    /// The workflow names an `invoke` of `workflows` (read from `paths`) may name: theirs and,
    /// when one of them invokes a name none of them has, those of the other files of their
    /// folders (also when one file is checked alone). Only then are the neighbours read: a large
    /// or broken file next to the ones checked costs nothing otherwise.
    private func knownWorkflows(for workflows: [Workflow], in paths: [String]) throws -> Set<String> {
        let own = Set(workflows.map(\.name.value))
        guard !workflows.flatMap(\.invokedWorkflows).allSatisfy({ own.contains($0.value) }) else { return own }
        let folders = Set(paths.map { ($0 as NSString).deletingLastPathComponent }).map { $0.isEmpty ? "." : $0 }
        let neighbours = try WorkflowSources.paths(folders.sorted(), recursive: false)
        return own.union(neighbours.compactMap { WorkflowFile.reading(path: $0).workflow?.name.value })
    }
}

extension DiagnosticFormat: ExpressibleByArgument {}

/// Finds and reads workflow files from the paths given on the command line.
enum WorkflowSources {
    /// The `.yaml`/`.yml` files under `paths`, sorted (`WorkflowFile.reading` reads each, and
    /// says why one cannot be read); exits with status 2 when a path does not exist.
    static func paths(_ paths: [String], recursive: Bool = true) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            // A link that leads nowhere (a loop, a missing target) is still a file named: reading
            // it says why it cannot be read, as it does inside a folder.
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            guard exists || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil else {
                throw usageFailure("no such file or folder: \(path)")
            }
            if isDirectory.boolValue {
                files += WorkflowSourceReader.files(in: path, recursive: recursive)
            } else {
                files.append(path)
            }
        }
        return files
    }

    private static func usageFailure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(2)
    }
}
