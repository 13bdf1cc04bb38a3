import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq retry-callback`.
struct DLQRetryCallbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-callback", abstract: "Send a failed SDK run's failure callback again, once it has failed; prints the run id.")

    @Argument(help: "The DLQ entry's id.") var dlqId: String
    @OptionGroup var server: ServerOption

    func run() async throws {
        let answer = try await server.client.expectSuccess(.POST, "/v2/workflows/dlq/callback/\(PathSegment.escaped(dlqId))")
        print(answer["workflowRunId"]?.stringText ?? answer.jsonText())
    }
}
