import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise logs`: a readable timeline of a run's steps and delivery attempts.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show a run's step timeline.")

    @Argument(help: "The run id.") var runId: String
    @Flag(name: .long, help: "Print new steps as they happen, until the run ends.") var follow = false
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = server.client
        guard follow else {
            print(RunTimeline.render(try await client.run(runId)))
            return
        }
        // The timeline is printed once, as it is before following (so a run that ends at once is
        // still seen running), then only the lines each event adds to it.
        var printed: Set<String> = []
        func printNewLines() async throws {
            let lines = RunTimeline.render(try await client.run(runId)).components(separatedBy: "\n")
            let fresh = lines.filter { !printed.contains($0) }
            if !fresh.isEmpty { print(fresh.joined(separator: "\n")) }
            // Shown as it happens, also into a pipe or a file.
            fflush(nil)
            printed.formUnion(lines)
        }
        try await printNewLines()
        _ = try await RunWaiter(client: client).followToEnd(runId) { _, _ in try await printNewLines() }
        try await printNewLines()
    }
}
