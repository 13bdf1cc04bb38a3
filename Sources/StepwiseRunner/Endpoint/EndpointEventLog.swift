import StepwiseExpressions

/// Where verbose events go: a function taking each JSON line (standard output in `stepwise
/// runner --verbose`). Secrets never reach it: details hold step names, ids and statuses only.
public struct EndpointEventLog: Sendable {
    let write: (@Sendable (String) -> Void)?
    let clock: @Sendable () -> TimestampValue

    /// A log writing lines with `write`, or none when `nil`.
    public init(write: (@Sendable (String) -> Void)?, clock: @escaping @Sendable () -> TimestampValue) {
        self.write = write
        self.clock = clock
    }

    /// Records `event` of run `runId` (empty before a run id is known).
    func record(_ event: EndpointEvent, runId: String?, _ details: Value = .null) {
        guard let write else { return }
        let line: Value = [
            "timestamp": .int(clock().millisecondsSinceEpoch), "workflowRunId": .string(runId ?? ""),
            "logLevel": .string(event.level), "eventType": .string(event.rawValue), "details": details,
        ]
        write(line.jsonText())
    }
}
