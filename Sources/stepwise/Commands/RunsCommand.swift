import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise runs`: lists runs, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs, newest first.")

    @Option(name: .long, help: "Only runs of this workflow.") var workflow: String?
    @Option(name: .long, help: "Only runs with this status: running, succeeded, failed, canceled.") var status: String?
    @Option(name: .long, help: "Only runs with this label (several, comma-separated: any of them).") var label: String?
    @Option(name: .long, help: "Only runs created at or after this time (2026-12-03T18:00:00Z).") var from: String?
    @Option(name: .long, help: "Only runs created before this time.") var to: String?
    @Option(name: .long, parsing: .unconditional, help: "At most this many runs (pages of 1,000 are fetched as needed).") var limit = 50
    @OptionGroup var server: ServerOption

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        if let status, RunStatus(rawValue: status) == nil {
            throw ValidationError("--status must be running, succeeded, failed or canceled, not '\(status)'")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            guard let value, (try? TimestampValue(parsing: value)) == nil else { continue }
            throw ValidationError("\(name) must be a time such as 2026-12-03T18:00:00Z, not '\(value)'")
        }
    }

    func run() async throws {
        var filters: [String] = []
        for (name, value) in [("workflow", workflow), ("status", status), ("label", label), ("from", from), ("to", to)] {
            if let value { filters.append("\(name)=\(QueryValue.escaped(value))") }
        }
        let runs = try await server.client.listing("/api/runs", filters: filters, key: "runs", limit: limit, pageSize: 1_000, sizeParameter: "limit")
        print(TextTable.render(
            runs, empty: "no runs", .field("RUN", "workflowRunId"), .field("WORKFLOW", "workflow"), .field("STATUS", "status"),
            .field("CREATED", "createdAt")))
    }
}
