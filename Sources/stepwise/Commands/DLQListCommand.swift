import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq list`.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the failed runs in the dead-letter queue.")

    @Option(name: .long, help: "Only failed runs of this workflow (a YAML workflow's name, or an SDK run's endpoint URL).") var workflow: String?
    @Option(name: .long, parsing: .unconditional, help: "At most this many entries, newest failure first (pages of 100 are fetched as needed).") var limit = 50
    @OptionGroup var server: ServerOption

    func run() async throws {
        guard limit > 0 else { throw CommandFailure.usage("--limit must be at least 1") }
        let filters = workflow.map { ["workflow=" + QueryValue.escaped($0)] } ?? []
        let letters = try await server.client.listing(
            "/v2/workflows/dlq", filters: filters, key: "messages", limit: limit, pageSize: DeadLetterFilter.maximumPage, sizeParameter: "count")
        print(TextTable.render(
            letters, empty: workflow.map { "no failed run of workflow '\($0)' is in the dead-letter queue" } ?? "the dead-letter queue is empty",
            .field("DLQ ID", "dlqId"), .field("RUN", "workflowRunId"),
            .field("WORKFLOW", "workflow"), .field("FAILED STEP", "failedStep"),
            TextTable.Column(header: "ERROR") { letter in
                guard let error = letter["error"], error != .null else { return "-" }
                return error["message"]?.stringText ?? RunTimeline.summary(error)
            }))
    }
}
