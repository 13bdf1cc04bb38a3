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

/// `stepwise dlq`: the dead-letter queue of failed runs.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Look at and act on failed runs in the dead-letter queue.",
        subcommands: [DLQListCommand.self, DLQResumeCommand.self, DLQRestartCommand.self, DLQRetryCallbackCommand.self, DLQDeleteCommand.self],
        defaultSubcommand: DLQListCommand.self)
}

/// `stepwise dlq list`.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the failed runs in the dead-letter queue.")

    @Option(name: .long, help: "Only failed runs of this workflow (a YAML workflow's name, or an SDK run's endpoint URL).") var workflow: String?
    @Option(name: .long, parsing: .unconditional, help: "At most this many entries, newest failure first (pages of 100 are fetched as needed).") var limit = 50
    @OptionGroup var server: ServerOption

    func run() async throws {
        guard limit > 0 else { throw CommandFailure.usage("--limit must be at least 1") }
        let filters = workflow.map { ["workflow=" + QueryValue.escaped($0)] } ?? []
        let letters = try await server.client.listing(
            "/v2/workflows/dlq", filters: filters, key: "messages", limit: limit, pageSize: DeadLetterFilter.maximumPage, sizeParameter: "count")
        print(TextTable.render(
            letters, empty: workflow.map { "no failed run of workflow '\($0)' is in the dead-letter queue" } ?? "the dead-letter queue is empty",
            .field("DLQ ID", "dlqId"), .field("RUN", "workflowRunId"),
            .field("WORKFLOW", "workflow"), .field("FAILED STEP", "failedStep"),
            TextTable.Column(header: "ERROR") { letter in
                guard let error = letter["error"], error != .null else { return "-" }
                return error["message"]?.stringText ?? RunTimeline.summary(error)
            }))
    }
}

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

/// What `stepwise dlq resume|restart` sets instead of a run's own options: Upstash's override
/// headers of a resume or restart.
struct ResumeOverrides: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Retries of each remaining delivery of an SDK run.") var retries: Int?
    @Option(name: .long, help: "The retry delay expression of an SDK run's remaining deliveries (QStash's Upstash-Retry-Delay).") var retryDelay: String?
    @Option(name: .long, help: "The flow-control key of an SDK run's remaining deliveries.") var flowControlKey: String?
    @Option(name: .long, help: "Its limits, e.g. 'parallelism=2, rate=10, period=1m'.") var flowControlValue: String?
    @Option(name: .long, help: "The URL an SDK run's failure is reported to from now on.") var failureUrl: String?
    @Option(name: .long, help: "How long an SDK run's next delivery waits, e.g. 30s.") var delay: String?
    @Option(name: .long, help: "The run's label from now on.") var newLabel: String?

    /// Each option, the header the server reads it from, and its value if given.
    private var table: [(option: String, header: String, value: String?)] {
        [
            ("--retries", "Upstash-Retries", retries.map(String.init)), ("--retry-delay", "Upstash-Retry-Delay", retryDelay),
            ("--flow-control-key", "Upstash-Flow-Control-Key", flowControlKey), ("--flow-control-value", "Upstash-Flow-Control-Value", flowControlValue),
            ("--failure-url", "Upstash-Failure-Callback", failureUrl), ("--delay", "Upstash-Delay", delay), ("--new-label", "Upstash-Label", newLabel),
        ]
    }

    /// The headers the server reads them from.
    var headers: [(String, String)] {
        table.compactMap { row in row.value.map { (row.header, $0) } }
    }

    /// The server's `message` with each header named by the option that set it: `--retries
    /// (Upstash-Retries)`, as the person typed it.
    func inOptionTerms(_ message: String) -> String {
        table.filter { $0.value != nil }.reduce(message) { text, row in
            text.replacingOccurrences(of: row.header, with: "\(row.option) (\(row.header))")
        }
    }
}

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
                FileHandle.standardError.write(Data("error: \(inOptionTerms(failure["error"]?.stringText ?? failure.jsonText()))\n".utf8))
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

/// `stepwise dlq resume`.
struct DLQResumeCommand: DLQActionCommand {
    static let action = "resume"
    static let abstract = "Continue failed runs from their failed step; prints each run id."

    @OptionGroup var selection: DLQSelection
    @OptionGroup(title: "Options instead of the runs' own") var overrides: ResumeOverrides
    @OptionGroup var server: ServerOption

    var overrideHeaders: [(String, String)] { overrides.headers }
    func inOptionTerms(_ message: String) -> String { overrides.inOptionTerms(message) }
}

/// `stepwise dlq restart`.
struct DLQRestartCommand: DLQActionCommand {
    static let action = "restart"
    static let abstract = "Start fresh runs with failed runs' input and label; prints each new run id."

    @OptionGroup var selection: DLQSelection
    @OptionGroup(title: "Options instead of the runs' own") var overrides: ResumeOverrides
    @OptionGroup var server: ServerOption

    var overrideHeaders: [(String, String)] { overrides.headers }
    func inOptionTerms(_ message: String) -> String { overrides.inOptionTerms(message) }
}

/// `stepwise dlq delete`.
struct DLQDeleteCommand: DLQActionCommand {
    static let action = "delete"
    static let abstract = "Remove entries from the dead-letter queue."

    @OptionGroup var selection: DLQSelection
    @OptionGroup var server: ServerOption
}

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

/// `stepwise schedules`: the workflows' cron schedules and the QStash schedules (those of
/// `stepwise runner`s and SDK clients).
struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedules", abstract: "List the cron schedules and their next fire times.")

    @OptionGroup var server: ServerOption

    func run() async throws {
        let schedules = try await server.client.expectSuccess(.GET, "/v2/schedules").listItems
        print(TextTable.render(
            schedules, empty: "no schedules", .field("ID", "scheduleId"), .field("TARGET", "target"), .field("CRON", "cron"),
            .field("TIMEZONE", "timezone"), .field("NEXT FIRE", "nextFire"), .field("LAST FIRE", "lastFire"), .field("PAUSED", "isPaused")))
    }
}

/// `stepwise keys`: the signing keys of deliveries, for endpoints that verify them
/// (`QSTASH_CURRENT_SIGNING_KEY`, `QSTASH_NEXT_SIGNING_KEY`); `--rotate` makes the next key current.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Show (or rotate) the keys that sign deliveries.",
        discussion: "Prints them as environment variables for an endpoint that verifies signatures.")

    @Flag(name: .long, help: "Make the next key current and create a fresh next key first.") var rotate = false
    @OptionGroup var server: ServerOption

    func run() async throws {
        let keys = try await server.client.expectSuccess(rotate ? .POST : .GET, rotate ? "/v2/keys/rotate" : "/v2/keys")
        print("QSTASH_CURRENT_SIGNING_KEY=\(keys["current"]?.stringText ?? "")")
        print("QSTASH_NEXT_SIGNING_KEY=\(keys["next"]?.stringText ?? "")")
    }
}
