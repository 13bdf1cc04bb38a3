import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise trigger`: starts a run on a server, optionally waiting for its end.
struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trigger", abstract: "Start a run of a workflow.")

    @Argument(help: "The workflow's name.") var name: String
    @Option(name: .long, help: "The input as JSON, or @FILE.") var input = "{}"
    @Option(name: .long, help: "A run id; starting again with the same id returns the same run.") var runId: String?
    @Option(name: .long, help: "A label to find the run by (stepwise runs --label).") var label: String?
    @Flag(name: .long, help: "Wait for the run to end and print its output.") var wait = false
    @OptionGroup var server: ServerOption

    func validate() throws {
        // No HTTP header can carry them: the request would fail as if the server were down.
        for (option, value) in [("--run-id", runId), ("--label", label)] where value?.containsControlCharacter == true {
            throw ValidationError("\(option) holds a control character, which no header can carry")
        }
    }

    func run() async throws {
        // Chosen here, so that a start whose answer was lost can be found, and sent again safely.
        let id = runId ?? "wfr_" + RandomHex.digits(32)
        let headers = [("Upstash-Workflow-RunId", id)] + (label.map { [("Upstash-Label", $0)] } ?? [])
        let started: Value
        do {
            started = try await server.client.expectSuccess(.POST, "/workflows/" + PathSegment.escaped(name), body: try InputArgument.value(input), headers: headers)
        } catch CommandFailure.unreachable(let message) {
            throw CommandFailure.unreachable(
                "\(message). The run's id is \(id): if the server got the request, `stepwise logs \(id)` shows the run, "
                    + "and starting it again with `--run-id \(id)` starts it at most once")
        }
        guard wait else {
            print(started.jsonText(pretty: true))
            return
        }
        // On standard error, so that output stays the run's JSON: should the wait fail (the
        // server gone), the durable run can still be found by its id.
        FileHandle.standardError.write(Data("started \(id); waiting for its end\n".utf8))
        let run = try await RunWaiter(client: server.client).waitForEnd(of: id)
        print(TerminalText.visible(json: run.jsonText(pretty: true)))
        if run["status"]?.stringText != "succeeded" { throw ExitCode.failure }
    }
}
