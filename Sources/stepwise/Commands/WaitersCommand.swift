import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise waiters`: the runs waiting on an event.
struct WaitersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "waiters", abstract: "List the runs waiting on an event.")

    @Argument(help: "The event id.") var event: String
    @OptionGroup var server: ServerOption

    func run() async throws {
        let waiters = try await server.client.expectSuccess(.GET, "/v2/waiters/\(PathSegment.escaped(event))").listItems
        print(TextTable.render(
            waiters, empty: "no run is waiting for '\(event)'", .field("RUN", "workflowRunId"), .field("WORKFLOW", "workflow"),
            .field("STEP", "step"), .field("TIMEOUT", "timeoutAt")))
    }
}
