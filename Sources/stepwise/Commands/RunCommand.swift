import ArgumentParser
import Foundation
import Logging
import StepwiseEngine
import StepwiseSQLite
import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise run FILE`: one run to completion in this process, with a temporary store, printing
/// each step as it finishes (and each retry) and then the output. The workflows it invokes are
/// read from the other files of its folder, as `validate` finds them.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run one workflow file to completion in-process and show its steps live.")

    @Argument(help: "The workflow file.") var file: String
    @Option(name: .long, help: "The input as JSON, or @FILE.") var input = "{}"

    func run() async throws {
        let definition = try loadDefinition()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-run-\(RandomHex.digits(32))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let interruptions = Self.removingOnInterrupt(folder)
        defer { interruptions.forEach { $0.cancel() } }
        let store = try SQLiteStore(path: folder.appendingPathComponent("run.db").path)
        let runner = WorkflowRunner(
            http: AsyncHTTPTransport(), secrets: EnvironmentSecrets(ProcessInfo.processInfo.environment), clock: WorkflowEngine.systemTime)
        // The run's own lines are this command's output; the engine says only what went wrong
        // (its stop at the end was printed or not depending on how fast the process exited).
        var logger = Logger(label: "stepwise.engine")
        logger.logLevel = .warning
        let engine = WorkflowEngine(store: store, runner: runner, logger: logger)
        try await engine.install([definition] + (try invokedDefinitions(of: definition)))
        // Subscribed before the run starts, so that none of its events is missed.
        let events = engine.events.subscribe()
        let finished = try await Self.whileDelivering(engine) {
            let run: RunRecord
            do {
                run = try await engine.start(workflow: definition.name, input: try InputArgument.value(input)).run
            } catch let error as StartError {
                throw CommandFailure.failed(Self.describe(error))
            }
            print("▶ \(definition.name) run \(run.id)")
            return try await follow(run.id, store: store, events: events)
        }
        switch finished.status {
        case .succeeded: print("✔ succeeded with output \(TerminalText.visible(json: finished.output?.jsonText(pretty: true) ?? "null"))")
        default:
            print("✘ \(finished.status.rawValue): \(TerminalText.visible(finished.error?.description ?? ""))")
            throw ExitCode.failure
        }
    }

    /// Removes the temporary store when the command is interrupted (Ctrl-C, SIGTERM), then exits
    /// as the signal would have: the store holds the run's input and journal, which nothing will
    /// read again. The sources returned must be kept while the run goes on.
    private static func removingOnInterrupt(_ folder: URL) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                try? FileManager.default.removeItem(at: folder)
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    /// Runs `body` while `engine` delivers, and returns only once its delivery loop has stopped:
    /// the loop's own work (a retention pass, say) would otherwise go on writing to the
    /// temporary store as it is removed, and report that store as deleted under a server.
    private static func whileDelivering<T: Sendable>(_ engine: WorkflowEngine, _ body: () async throws -> T) async throws -> T {
        let deliveries = Task { try await engine.runDeliveries() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        deliveries.cancel()
        _ = await deliveries.result
        return try result.get()
    }

    private func loadDefinition() throws -> WorkflowDefinition {
        let source: String
        switch WorkflowSourceReader.text(atPath: file) {
        case .success(let text): source = text
        case .failure(let unreadable): throw CommandFailure.usage("cannot read \(file): \(unreadable.reason)")
        }
        let checked = WorkflowFile(path: file, source: source)
        guard let workflow = checked.workflow, !checked.hasErrors else {
            FileHandle.standardError.write(Data(DiagnosticFormat.text.render([checked]).utf8))
            throw CommandFailure.failed("\(file) has errors")
        }
        return WorkflowDefinition(workflow: workflow, source: source)
    }

    /// The workflows that `main`'s `invoke` steps reach, directly or through each other, read
    /// from the other files of its folder (not its subfolders); none when it invokes only itself.
    /// A name no file has is left to the run, whose `invoke` then fails saying so.
    private func invokedDefinitions(of main: WorkflowDefinition) throws -> [WorkflowDefinition] {
        guard main.workflow.invokedWorkflows.contains(where: { $0.value != main.name }) else { return [] }
        let folder = (file as NSString).deletingLastPathComponent
        var byName: [String: [WorkflowFile]] = [:]
        for path in try WorkflowSources.paths([folder.isEmpty ? "." : folder], recursive: false) {
            let neighbour = WorkflowFile.reading(path: path)
            if let name = neighbour.workflow?.name.value { byName[name, default: []].append(neighbour) }
        }
        var found: [WorkflowDefinition] = []
        var seen: Set<String> = [main.name]
        var pending = main.workflow.invokedWorkflows.map { (name: $0.value, invoker: main.name) }
        while let (name, invoker) = pending.popLast() {
            guard seen.insert(name).inserted, let candidates = byName[name], let neighbour = candidates.first else { continue }
            // Which one would run is a guess: validate says SW024 of the folder too.
            guard candidates.count == 1 else {
                throw CommandFailure.failed(
                    "\(invoker) invokes \(name), which \(candidates.count) files of its folder define: \(candidates.map(\.path).joined(separator: ", ")); rename all but one")
            }
            guard let workflow = neighbour.workflow, !neighbour.hasErrors else {
                FileHandle.standardError.write(Data(DiagnosticFormat.text.render([neighbour]).utf8))
                throw CommandFailure.failed("\(neighbour.path), which \(invoker) invokes, has errors")
            }
            found.append(WorkflowDefinition(workflow: workflow, source: neighbour.source))
            pending += workflow.invokedWorkflows.map { (name: $0.value, invoker: name) }
        }
        return found
    }

    /// Prints journal entries and retries as they are recorded (on the engine's change feed, no
    /// polling), until the run ends. Each event reads only what is new, so following a long run
    /// costs no more per step than a short one.
    private func follow(_ id: String, store: SQLiteStore, events: AsyncStream<RunEvent>) async throws -> RunRecord {
        var printedSteps = 1
        // Attempts made at journal length `attemptFloor` or later, and those of them already shown.
        var attemptFloor = 0
        var shownAttempts: [AttemptRecord] = []
        // The step the run waits on (a sleep, a wait or a call can hold it for long: said rather
        // than silent), told after the steps recorded before it.
        var waitingOn: String?
        var iterator = events.makeAsyncIterator()
        while true {
            let journalEnd = try await store.progress(runId: id, from: printedSteps).journal
            for entry in journalEnd {
                let result = entry.error.map { "failed: \($0.message)" } ?? RunTimeline.summary(entry.out ?? .null)
                print("  \(entry.error == nil ? "✔" : "✘") \(entry.stepName) [\(entry.stepType.rawValue)] → \(TerminalText.visible(result))")
            }
            printedSteps += journalEnd.count
            let attempts = try await store.attempts(runId: id, from: attemptFloor)
            for attempt in attempts.dropFirst(shownAttempts.count) where attempt.outcome == "retry" {
                print("  ↻ retrying after: \(TerminalText.visible(attempt.detail ?? ""))")
            }
            attemptFloor = printedSteps - 1
            shownAttempts = attempts.filter { $0.position >= attemptFloor }
            if let step = waitingOn, !journalEnd.contains(where: { $0.stepName == step }) { print("  … \(step) [waiting]") }
            waitingOn = nil
            // Shown as it happens, also into a pipe or a file (`| tee`, a CI log).
            fflush(nil)
            if let run = try await store.run(id: id), run.status.isFinal { return run }
            while let event = await iterator.next() {
                guard event.runId == id else { continue }
                if event.kind == .waiting, let step = event.step { waitingOn = step }
                break
            }
        }
    }

    static func describe(_ error: StartError) -> String {
        switch error {
        case .unknownWorkflow(let name): "unknown workflow \(name)"
        case .invalidInput(let problems): "the input does not match the input schema:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        case .invalidRunId, .runIdTaken: error.description
        case .storage(let message): message
        case .unavailable(let error): error.description
        }
    }
}
