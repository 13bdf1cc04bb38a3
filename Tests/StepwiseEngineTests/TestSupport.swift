import Foundation
import Logging
import StepwiseEngine
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime
import Testing

/// A fresh directory under the system's temporary folder, removed with its contents when the last
/// reference to it goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-engine-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Runs `work`, which blocks (a child process, a socket read), on a thread of its own, so that
/// waiting for it does not hold one of the few threads the server in this process needs.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A wait that did not see its condition before its deadline.
struct WaitTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Polls `probe` every `interval` until it returns a value, for at most `limit`.
func eventually<T>(
    _ what: String, within limit: Duration = .seconds(20), every interval: Duration = .milliseconds(20),
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

/// The run once it has ended (succeeded, failed or canceled).
func finishedRun(_ id: String, in store: any Store, within limit: Duration = .seconds(20)) async throws -> RunRecord {
    try await eventually("run \(id) to end", within: limit) {
        guard let run = try await store.run(id: id), run.status.isFinal else { return nil }
        return run
    }
}

/// The run's journal once it holds at least `count` entries (the initial entry included).
func journal(of id: String, in store: any Store, reaching count: Int) async throws -> [JournalEntry] {
    try await eventually("the journal of run \(id) to reach \(count) entries") {
        let journal = try await store.journal(runId: id)
        return journal.count >= count ? journal : nil
    }
}

/// Waits until the step `step` of run `id` is parked with the engine (sleeping, waiting, calling).
func parked(_ id: String, _ step: String, in store: any Store) async throws {
    _ = try await eventually("step \(step) of run \(id) to be parked") {
        try await store.progress(runId: id).pending.contains(step) ? true : nil
    }
}

/// A validated definition of `yaml`; records the errors as issues when it does not validate.
func definition(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> WorkflowDefinition {
    let file = WorkflowFile(path: "test.yaml", source: yaml)
    let errors = file.diagnostics.filter { $0.severity == .error }
    #expect(
        errors.isEmpty, "the test workflow has errors:\n\(errors.map(\.description).joined(separator: "\n"))",
        sourceLocation: sourceLocation)
    let workflow = try #require(file.workflow, sourceLocation: sourceLocation)
    return WorkflowDefinition(workflow: workflow, source: yaml)
}

/// A logger that drops everything (the engine and the servers log expected errors in these tests).
let silentLogger = Logger(label: "stepwise.tests", factory: { _ in SwiftLogNoOpLogHandler() })

extension TimestampValue {
    /// The instant as a `Date` (microsecond precision is plenty for the comparisons of these tests).
    var date: Date { Date(timeIntervalSince1970: Double(nanosecondsSinceEpoch) / 1e9) }

    /// `date` as a timestamp.
    static func at(_ date: Date) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: Int128(date.timeIntervalSince1970 * 1e9))
    }

    /// This instant moved by `seconds` (negative moves back).
    func plus(seconds: Double) throws -> TimestampValue {
        try TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + Int128(seconds * 1e9))
    }
}

extension Value {
    /// The string, when this is one.
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer, when this is one.
    var int: Int64? {
        if case .int(let number) = self { return number }
        return nil
    }
}
