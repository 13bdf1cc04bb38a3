import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Renders a run (as `GET /api/runs/{id}` returns it) as lines a person reads.
enum RunTimeline {
    /// The run's header, attempts, steps, waits, output and error, a line each, with every
    /// control character written out (`TerminalText`).
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
        // What endpoints answered is in these lines: shown, never acting on the terminal.
        return lines.map { TerminalText.visible($0) }.joined(separator: "\n")
    }

    /// `value` as JSON, cut to 120 characters.
    static func summary(_ value: Value) -> String {
        let text = value.jsonText()
        return text.count > 120 ? String(text.prefix(117)) + "..." : text
    }
}
