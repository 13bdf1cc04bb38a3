import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Which entries `stepwise dlq resume|restart|delete` takes: one by its id, or every entry a
/// selection names, page after page (the server's bulk actions).
struct DLQSelection: ParsableArguments {
    @Argument(help: "The DLQ entry's id (or select entries with --workflow, --label or --all).") var dlqId: String?
    @Option(name: .long, help: "Every failed run of this workflow (a YAML workflow's name, or an SDK run's endpoint URL).") var workflow: String?
    @Option(name: .long, help: "Every failed run with this label (several, comma-separated: any of them).") var label: String?
    @Flag(name: .long, help: "Every entry of the dead-letter queue.") var all = false

    /// The query of a selection by filter; `nil` for one entry by its id. An error when both or
    /// neither are given.
    func filters() throws -> [String]? {
        var filters = workflow.map { ["workflow=" + QueryValue.escaped($0)] } ?? []
        if let label { filters.append("label=" + QueryValue.escaped(label)) }
        guard !(all && !filters.isEmpty) else {
            throw CommandFailure.usage("--all takes every entry: give it alone, or select with --workflow and --label instead")
        }
        let selects = all || !filters.isEmpty
        guard (dlqId == nil) == selects else {
            throw CommandFailure.usage(
                dlqId == nil ? "give a DLQ entry id, or select entries with --workflow and --label, or --all"
                    : "give a DLQ entry id or a selection (--workflow, --label, --all), not both")
        }
        return selects ? filters : nil
    }
}
