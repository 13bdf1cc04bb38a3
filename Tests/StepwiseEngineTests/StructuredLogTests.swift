import Foundation
import Logging
import StepwiseExpressions
import StepwiseServer
import StepwiseTesting
import Synchronization
import Testing

/// `--log-format json`: one JSON object per line, with the run id and step as fields.
@Suite("Structured logs")
struct StructuredLogTests {
    /// Lines a JSON `LogLineHandler` wrote.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            var logger = Logger(label: "stepwise.test") { label in
                LogLineHandler(label: label, level: .debug, format: .json) { line in self.lines.withLock { $0.append(line) } }
            }
            logger.logLevel = .debug
            return logger
        }
    }

    @Test("every delivery of a run is a JSON line naming the run, its workflow, its step and the outcome")
    func deliveriesAreJSONLines() async throws {
        let napper = try definition(SmallWorkflows.napper)
        let sink = Lines()
        try await RunningServer.with([napper], logger: sink.logger) { server in
            let id = try await server.startRun("napper", "{}")
            _ = try await finishedRun(id, in: server.store)
        }
        let records = try sink.lines.withLock { $0 }.map { line in
            #expect(line.hasSuffix("\n") && !line.dropLast().contains("\n"), "one object per line")
            return try Value(json: line)
        }
        let deliveries = records.filter { $0["message"]?.string?.hasPrefix("delivered run") == true }
        #expect(deliveries.count >= 2)
        let nap = try #require(deliveries.first { $0["step"] == "nap" })
        #expect(nap["level"] == "debug")
        #expect(nap["workflow"] == "napper")
        #expect(nap["outcome"] == "submitted")
        #expect(nap["run_id"]?.string?.hasPrefix("wfr_") == true)
        #expect(nap["time"]?.string?.hasSuffix("Z") == true)
        #expect(deliveries.contains { $0["outcome"] == "completed" && $0["run_id"] == nap["run_id"] })
    }

    @Test("a text log line escapes control characters in its message and metadata, so what a client or an endpoint sent cannot forge a line")
    func textLinesCannotBeForged() {
        let lines = Mutex<[String]>([])
        let handler = LogLineHandler(label: "stepwise", level: .info, format: .text) { line in lines.withLock { $0.append(line) } }
        handler.log(event: LogEvent(
            level: .error, message: "cannot read 'wfr_\u{0}\n2026-12-06T14:55:10Z info stepwise: FORGED'", metadata: ["run_id": "a\rb"],
            source: "test", file: #fileID, function: #function, line: #line))
        let line = lines.withLock { $0 }.joined()
        #expect(line.hasSuffix("\n") && !line.dropLast().contains("\n") && !line.contains("\r") && !line.contains("\u{0}"))
        #expect(line.hasSuffix(#" error stepwise: run_id=a\u{d}b cannot read 'wfr_\u{0}\u{a}2026-12-06T14:55:10Z info stepwise: FORGED'"# + "\n"), "\(line)")
    }

    @Test("with --log-format json every line of a server's run is JSON, its start line on standard output and the note that no workflows folder is served too")
    func startLineIsJSON() async throws {
        let folder = try TemporaryDirectory()
        let executable = try #require(stepwiseExecutable).path
        // Started in an empty folder: there is no ./workflows to serve.
        let arguments = ["-C", folder.url.path, "/usr/bin/timeout", "-s", "TERM", "3", executable, "serve", "--log-format", "json", "--port", "0",
                         "--token", "t", "--store", "sqlite:" + folder.path("store.db")]
        let result = try await onOwnThread { try ChildProcess.run("/usr/bin/env", arguments) }
        let standardOutput = String(decoding: result.standardOutput, as: UTF8.self)
        let lines = (standardOutput + String(decoding: result.standardError, as: UTF8.self)).split(separator: "\n")
        #expect(lines.count >= 3, "\(lines)")
        for line in lines { #expect((try? Value(json: String(line))) != nil, "not JSON: \(line)") }
        #expect(lines.contains { $0.contains("no workflows folder at workflows: serving the engine only") }, "\(lines)")
        let start = try Value(json: standardOutput.split(separator: "\n").first.map(String.init) ?? "")
        #expect(start["message"]?.string?.hasPrefix("stepwise serving 0 workflow(s) [] on http://127.0.0.1:") == true, "\(start)")
        #expect(start["level"] == "info" && start["label"] == "stepwise")
    }

    @Test("an unknown log level or format is refused before the server starts")
    func badOptions() throws {
        let level = try stepwise("serve", "--no-runner", "--log-level", "loud", "--port", "0")
        #expect(level.status == 2)
        #expect(level.standardError.contains("--log-level"))
        let format = try stepwise("serve", "--no-runner", "--log-format", "xml", "--port", "0")
        #expect(format.status != 0)
        #expect(format.standardError.contains("log-format"))
    }
}
