import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq resume`, `restart` and `delete`: one entry, or every entry selected.
protocol DLQActionCommand: AsyncParsableCommand {
    /// The command's name, also the server's action.
    static var action: String { get }
    static var abstract: String { get }
    var selection: DLQSelection { get }
    var server: ServerOption { get }
    /// The override headers sent with the action (none for a delete).
    var overrideHeaders: [(String, String)] { get }
    /// A server message about the override headers, in the terms of the options that set them.
    func inOptionTerms(_ message: String) -> String
}

extension DLQActionCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: action, abstract: abstract) }

    var overrideHeaders: [(String, String)] { [] }

    func inOptionTerms(_ message: String) -> String { message }

    func run() async throws {
        guard let filters = try selection.filters() else { return try await actOnOne(selection.dlqId ?? "") }
        // Entries acted on leave the listing (a resumed run that fails again comes back newer
        // than the cursor), so following the cursor visits each entry once.
        var cursor: String?
        var deleted: Int64 = 0
        var acted = 0
        var failures = 0
        repeat {
            let query = filters + ["count=\(DeadLetterFilter.maximumPage)"] + (cursor.map { ["cursor=" + QueryValue.escaped($0)] } ?? [])
            let path = Self.action == "delete" ? "/v2/workflows/dlq" : "/v2/workflows/dlq/\(Self.action)"
            let answer = try await server.client.expectSuccess(
                Self.action == "delete" ? .DELETE : .POST, path + "?" + query.joined(separator: "&"), headers: overrideHeaders)
            for run in answer["workflowRuns"]?.listItems ?? [] {
                print(run["workflowRunId"]?.stringText ?? run.jsonText())
                acted += 1
            }
            if case .int(let count)? = answer["deleted"] { deleted += count }
            // An entry that could not be acted on is named, and the selection goes on past it.
            for failure in answer["failed"]?.listItems ?? [] {
                failures += 1
                FileHandle.standardError.write(Data("error: \(TerminalText.visible(inOptionTerms(failure["error"]?.stringText ?? failure.jsonText())))\n".utf8))
            }
            cursor = answer["cursor"]?.stringText
        } while cursor != nil
        if Self.action == "delete" { print("deleted \(deleted)") }
        // Otherwise a selection that matched nothing would print nothing at all.
        if Self.action != "delete", acted == 0, failures == 0 { FileHandle.standardError.write(Data("no DLQ entries matched\n".utf8)) }
        if failures > 0 { throw CommandFailure.failed("\(failures) entr\(failures == 1 ? "y" : "ies") could not be acted on (above)") }
    }

    private func actOnOne(_ dlqId: String) async throws {
        let id = PathSegment.escaped(dlqId)
        guard Self.action != "delete" else {
            _ = try await server.client.expectSuccess(.DELETE, "/v2/workflows/dlq/\(id)")
            return print("deleted \(dlqId)")
        }
        let answer: Value
        do {
            answer = try await server.client.expectSuccess(.POST, "/v2/workflows/dlq/\(Self.action)/\(id)", headers: overrideHeaders)
        } catch CommandFailure.failed(let message) {
            throw CommandFailure.failed(inOptionTerms(message))
        }
        print(answer["workflowRunId"]?.stringText ?? answer.jsonText())
    }
}
