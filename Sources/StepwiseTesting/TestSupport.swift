import Foundation
import Logging
import StepwiseEngine
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// A fresh directory under the system's temporary folder, removed with its contents when the last
/// reference to it goes away.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-engine-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Runs `work`, which blocks (a child process, a socket read), on a thread of its own, so that
/// waiting for it does not hold one of the few threads the server in this process needs.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A wait that did not see its condition before its deadline.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let description: String

    /// A timeout described by `description`.
    public init(description: String) {
        self.description = description
    }
}

/// Polls `probe` every `interval` until it returns a value, for at most `limit`. The default is
/// generous: with every suite running at once on 2 cores, four deliveries of 300 ms one after
/// another took 9 to 15 s (a full `swift test`, session 36), against 1 s alone; tests state what
/// happens, and benchmarks how fast.
public func eventually<T>(
    _ what: String, within limit: Duration = .seconds(60), every interval: Duration = .milliseconds(20),
    _ probe: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while true {
        if let value = try await probe() { return value }
        guard clock.now < deadline else { throw WaitTimeout(description: "gave up after \(limit) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// The run once it has ended (succeeded, failed or canceled). The default wait is long because
/// the whole suite runs at once on two cores, where a run of many steps over HTTP can take a while.
public func finishedRun(_ id: String, in store: any Store, within limit: Duration = .seconds(45)) async throws -> RunRecord {
    try await eventually("run \(id) to end", within: limit) {
        guard let run = try await store.run(id: id), run.status.isFinal else { return nil }
        return run
    }
}

/// The run's journal once it holds at least `count` entries (the initial entry included).
public func journal(of id: String, in store: any Store, reaching count: Int) async throws -> [JournalEntry] {
    try await eventually("the journal of run \(id) to reach \(count) entries") {
        let journal = try await store.journal(runId: id)
        return journal.count >= count ? journal : nil
    }
}

/// Waits until the step `step` of run `id` is parked with the engine (sleeping, waiting, calling).
public func parked(_ id: String, _ step: String, in store: any Store) async throws {
    _ = try await eventually("step \(step) of run \(id) to be parked") {
        try await store.progress(runId: id).pending.contains(step) ? true : nil
    }
}

/// A validated definition of `yaml`; records the errors as issues when it does not validate.
public func definition(_ yaml: String) throws -> WorkflowDefinition {
    let file = WorkflowFile(path: "test.yaml", source: yaml)
    let errors = file.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty, let workflow = file.workflow else {
        throw TestWorkflowError(description: "the test workflow has errors:\n" + errors.map(\.description).joined(separator: "\n"))
    }
    return WorkflowDefinition(workflow: workflow, source: yaml)
}

/// A test's own workflow that does not validate.
public struct TestWorkflowError: Error, CustomStringConvertible {
    public let description: String

    init(description: String) {
        self.description = description
    }
}

/// A logger that drops everything (the engine and the servers log expected errors in these tests).
public let silentLogger = Logger(label: "stepwise.tests", factory: { _ in SwiftLogNoOpLogHandler() })

extension TimestampValue {
    /// The instant as a `Date` (microsecond precision is plenty for the comparisons of these tests).
    public var date: Date { Date(timeIntervalSince1970: Double(nanosecondsSinceEpoch) / 1e9) }

    /// `date` as a timestamp.
    public static func at(_ date: Date) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: Int128(date.timeIntervalSince1970 * 1e9))
    }

    /// This instant moved by `seconds` (negative moves back).
    public func plus(seconds: Double) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + Int128(seconds * 1e9))
    }
}

extension Value {
    /// The string, when this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer, when this is one.
    public var int: Int64? {
        if case .int(let number) = self { return number }
        return nil
    }
}

extension Store {
    /// Every entry of the workflow DLQ, newest failure first, read a page at a time.
    public func allDeadLetters() async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        var cursor: PageCursor?
        repeat {
            let page = try await deadLetters(matching: DeadLetterFilter(), after: cursor, count: DeadLetterFilter.maximumPage)
            letters += page.letters
            cursor = page.next
        } while cursor != nil
        return letters
    }
}
