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

    func run() async throws {
        // Chosen here, so that a start whose answer was lost can be found, and sent again safely.
        let id = runId ?? "wfr_" + RandomHex.digits(32)
        let headers = [("Upstash-Workflow-RunId", id)] + (label.map { [("Upstash-Label", $0)] } ?? [])
        let started: Value
        do {
            started = try await server.client.expectSuccess(.POST, "/workflows/\(name)", body: try InputArgument.value(input), headers: headers)
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
        print(run.jsonText(pretty: true))
        if run["status"]?.stringText != "succeeded" { throw ExitCode.failure }
    }
}

/// Waits for a run's end on the server's change feed (no polling).
struct RunWaiter {
    let client: APIClient
    /// How long a follower keeps trying a server it cannot reach (a restart, a deploy).
    static let reconnectWindow = Duration.seconds(120)

    func waitForEnd(of id: String) async throws -> Value {
        let run = try await followToEnd(id) { _, _ in }
        return ["workflowRunId": .string(id), "status": run["status"] ?? .null, "output": run["output"] ?? .null, "error": run["error"] ?? .null]
    }

    /// Hands each event of run `id` to `handle` until the run has ended, and returns the run. A
    /// feed that ends early (the node restarted, a proxy's timeout) is opened again, and a server
    /// that cannot be reached is tried again every second for `reconnectWindow`.
    func followToEnd(_ id: String, _ handle: (_ name: String, _ data: Value) async throws -> Void) async throws -> Value {
        let clock = ContinuousClock()
        var unreachableSince: ContinuousClock.Instant?
        while true {
            do {
                try await follow(id, handle)
                let run = try await client.run(id)
                guard run["status"]?.stringText == "running" else { return run }
                unreachableSince = nil
            } catch CommandFailure.unreachable(let message) {
                let since = unreachableSince ?? clock.now
                guard since.duration(to: clock.now) < Self.reconnectWindow else { throw CommandFailure.unreachable(message) }
                if unreachableSince == nil {
                    FileHandle.standardError.write(Data("\(message); trying again for up to \(Self.reconnectWindow.components.seconds) s\n".utf8))
                }
                unreachableSince = since
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Hands each event of run `id` to `handle` until the run has ended or the feed ends.
    private func follow(_ id: String, _ handle: (_ name: String, _ data: Value) async throws -> Void) async throws {
        try await client.events(APIClient.runPath(id) + "/events") { name, data in
            try await handle(name, data)
            if name == "snapshot" { return data["status"]?.stringText == "running" }
            return name != "finished"
        }
    }
}

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
            printed.formUnion(lines)
        }
        try await printNewLines()
        _ = try await RunWaiter(client: client).followToEnd(runId) { _, _ in try await printNewLines() }
        try await printNewLines()
    }
}

/// `stepwise cancel`: cancels a running run, or every running run of a workflow.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a running run, or every running run of a workflow.",
        usage: "stepwise cancel <run-id>\nstepwise cancel --workflow <name>")

    @Argument(help: "The run id.") var runId: String?
    @Option(name: .long, help: "Cancel every running run of this workflow.") var workflow: String?
    @OptionGroup var server: ServerOption

    func validate() throws {
        switch (runId, workflow) {
        case (nil, nil): throw ValidationError("give a run id or --workflow NAME")
        case (_?, _?): throw ValidationError("give a run id or --workflow NAME, not both")
        default: break
        }
    }

    func run() async throws {
        guard let workflow else {
            let runId = runId ?? ""
            _ = try await server.client.expectSuccess(.DELETE, "/v2/workflows/runs/\(PathSegment.escaped(runId))?cancel=true")
            print("canceled \(runId)")
            return
        }
        let answer = try await server.client.expectSuccess(.DELETE, "/v2/workflows/runs", body: ["workflow": .string(workflow)])
        let canceled = answer["workflowRunIds"]?.listItems.compactMap(\.stringText) ?? []
        guard canceled.isEmpty else {
            print(canceled.map { "canceled \($0)" }.joined(separator: "\n"))
            return
        }
        // Nothing canceled: a name the server does not serve is more likely a slip than a quiet workflow.
        let served = try await server.client.expectSuccess(.GET, "/api/workflows")["workflows"]?.listItems.compactMap { $0["name"]?.stringText } ?? []
        guard served.contains(workflow) else {
            throw CommandFailure.failed("no workflow named \(workflow) is served, and no run of it is running; served: \(served.joined(separator: ", "))")
        }
        print("no running runs of \(workflow)")
    }
}

/// Renders a run (as `GET /api/runs/{id}` returns it) as lines a person reads.
enum RunTimeline {
    static func render(_ run: Value) -> String {
        var lines = [
            "run \(run["workflowRunId"]?.stringText ?? "?") of \(run["workflow"]?.stringText ?? "?"): \(run["status"]?.stringText ?? "?")",
            "  started \(run["createdAt"]?.stringText ?? "?"), last change \(run["updatedAt"]?.stringText ?? "?")",
        ]
        if case .list(let attempts)? = run["attempts"] {
            for attempt in attempts {
                let outcome = attempt["outcome"]?.stringText ?? "?"
                let detail = attempt["detail"]?.stringText.map { " \($0)" } ?? ""
                let number = attempt["attempt"].map { $0 == .int(0) ? "" : " (retry \($0.jsonText()))" } ?? ""
                lines.append("  \(attempt["finishedAt"]?.stringText ?? "?")  \(outcome)\(number)\(detail)")
            }
        }
        if case .list(let steps)? = run["steps"] {
            lines.append("steps:")
            for step in steps {
                let name = step["stepName"]?.stringText ?? "?"
                let type = step["stepType"]?.stringText ?? "?"
                let result = step["error"].map { "failed: " + ($0["message"]?.stringText ?? $0.jsonText()) } ?? Self.summary(step["out"] ?? .null)
                lines.append("  \(name) [\(type)] → \(result)")
            }
        }
        if case .list(let waiting)? = run["waiting"], !waiting.isEmpty {
            lines.append("waiting on the engine: " + waiting.compactMap(\.stringText).joined(separator: ", "))
        }
        if case .list(let waits)? = run["waits"] {
            for wait in waits {
                lines.append("  \(wait["step"]?.stringText ?? "?") waits for event \(wait["event"]?.stringText ?? "?") until \(wait["timeoutAt"]?.stringText ?? "?")")
            }
        }
        if let output = run["output"], output != .null { lines.append("output: \(Self.summary(output))") }
        if let error = run["error"], error != .null { lines.append("error: \(error["type"]?.stringText ?? "") \(error["message"]?.stringText ?? "")") }
        return lines.joined(separator: "\n")
    }

    static func summary(_ value: Value) -> String {
        let text = value.jsonText()
        return text.count > 120 ? String(text.prefix(117)) + "..." : text
    }
}
