import Foundation
import StepwiseLanguage
import StepwiseRuntime

/// Every version of every workflow the runner can serve, by hash. A run stays pinned to the
/// version it started with: its messages carry the hash (`Stepwise-Workflow-Version`), and the
/// runner keeps each version it served as a file in its versions folder, so a delivery of a run
/// started before a redeploy still finds its definition after the runner restarts with new files.
public struct DefinitionVersions: Sendable {
    /// The version of each workflow that new runs start with, by name.
    public let current: [String: WorkflowDefinition]
    /// All known versions, by hash (the current ones and the kept ones).
    public let all: [String: WorkflowDefinition]

    /// The versions of `folder`, plus those kept in `directory` (created when missing; the current
    /// versions are written there). A kept file that no longer validates is skipped: its runs fail
    /// with the "unknown version" error rather than replay something else.
    public init(folder: WorkflowFolder, keptIn directory: String?) throws {
        current = folder.definitions
        var all: [String: WorkflowDefinition] = [:]
        if let directory {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for definition in Self.kept(in: directory) { all[definition.hash] = definition }
            for definition in folder.definitions.values where all[definition.hash] == nil {
                let file = (directory as NSString).appendingPathComponent("\(definition.name)-\(definition.hash).yaml")
                try Data(definition.source.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            }
        }
        for definition in folder.definitions.values { all[definition.hash] = definition }
        self.all = all
    }

    private init(current: [String: WorkflowDefinition], all: [String: WorkflowDefinition]) {
        self.current = current
        self.all = all
    }

    /// These versions, plus every one `earlier` knew: a version served before a reload stays
    /// known to the runs pinned to it even if its kept file is gone.
    public func keeping(_ earlier: DefinitionVersions) -> DefinitionVersions {
        DefinitionVersions(current: current, all: all.merging(earlier.all) { now, _ in now })
    }

    /// The kept versions whose file still validates and hashes to the name it was kept under.
    private static func kept(in directory: String) -> [WorkflowDefinition] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let sources = names.filter { $0.hasSuffix(".yaml") }.sorted().compactMap { name -> (path: String, text: String)? in
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
            return (path, text)
        }
        return sources.compactMap { source in
            let file = WorkflowFile(path: source.path, source: source.text)
            guard file.runsAsStored, let workflow = file.workflow else { return nil }
            let definition = WorkflowDefinition(workflow: workflow, source: source.text)
            return source.path.hasSuffix("-\(definition.hash).yaml") ? definition : nil
        }
    }

    /// What the current versions declare that the runner applies differently from `stepwise
    /// serve`, one line per workflow: QStash counts a message's limits under one flow-control
    /// key, so `rate_limit` holds only for runs whose two keys are equal.
    public var runnerDifferences: [String] {
        current.values.sorted { $0.name < $1.name }.compactMap { definition in
            guard let concurrency = definition.workflow.concurrency, let rate = definition.workflow.rateLimit,
                Self.text(of: concurrency.key) != Self.text(of: rate.key)
            else { return nil }
            return "workflow '\(definition.name)' declares concurrency and rate_limit with different keys; QStash flow control has "
                + "one key per message, so rate_limit is applied only to runs whose two keys come out equal (concurrency always is)"
        }
    }

    /// A key as written: its text, or `nil` for a key that is not a string.
    private static func text(of key: ValueTemplate) -> String? {
        switch key.kind {
        case .literal(.string(let text)), .template(_, let text, _): text
        default: nil
        }
    }

    /// The version `hash` of workflow `name`, when known.
    public func definition(_ name: String, hash: String) -> WorkflowDefinition? {
        all[hash].flatMap { $0.name == name ? $0 : nil }
    }
}
