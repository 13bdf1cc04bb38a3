import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise notify`: delivers an event to the runs waiting on it.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Send an event to the runs waiting on it.",
        discussion: "With --run, only that run is woken; when it is not waiting yet, the event is kept for its next wait.")

    @Argument(help: "The event id.") var event: String
    @Option(name: .long, help: "The event's data as JSON, or @FILE.") var data: String?
    @Option(name: .customLong("run"), help: "Only this run; the event is kept when the run is not waiting for it yet.") var runId: String?
    @OptionGroup var server: ServerOption

    func run() async throws {
        let body = try data.map { try InputArgument.value($0, option: "--data") }
        let path = (runId.map { "/v2/notify/\(PathSegment.escaped($0))" } ?? "/v2/notify") + "/\(PathSegment.escaped(event))"
        let answer = try await server.client.expectSuccess(.POST, path, body: body)
        guard let runId else {
            print(Self.woken(answer.listItems, waitingFor: event))
            return
        }
        let woken = answer["woken"]?.listItems ?? []
        if !woken.isEmpty {
            print(Self.woken(woken, waitingFor: event))
        } else if answer["stored"] == .bool(true) {
            print("\(runId) is not waiting for '\(event)' yet; the event is stored for its next wait")
        } else {
            print("\(runId) has ended; the event was dropped")
        }
    }

    /// One line per woken run (`Upstash`'s answer: `{workflowRunId, messageId, error}` each).
    private static func woken(_ entries: [Value], waitingFor event: String) -> String {
        guard !entries.isEmpty else { return "no run is waiting for '\(event)'" }
        return entries.map { entry in
            let id = entry["workflowRunId"]?.stringText ?? "?"
            guard let error = entry["error"]?.stringText, !error.isEmpty else { return "woke \(id)" }
            return "did not wake \(id): \(error)"
        }.joined(separator: "\n")
    }
}
