import StepwiseExpressions

/// What the endpoint did, in the event types of Upstash's workflow logger (`--verbose`), written
/// as one JSON line each: `{timestamp, workflowRunId, logLevel, eventType, details}`.
public enum EndpointEvent: String, Sendable {
    case endpointStart = "ENDPOINT_START"
    case runSingle = "RUN_SINGLE"
    case runParallel = "RUN_PARALLEL"
    case submitStep = "SUBMIT_STEP"
    case submitFirstInvocation = "SUBMIT_FIRST_INVOCATION"
    case submitCleanup = "SUBMIT_CLEANUP"
    case submitThirdPartyResult = "SUBMIT_THIRD_PARTY_RESULT"
    case error = "ERROR"

    /// Upstash's level for the event.
    var level: String {
        switch self {
        case .endpointStart, .submitFirstInvocation: "INFO"
        case .runSingle, .runParallel: "INFO"
        case .submitStep, .submitCleanup, .submitThirdPartyResult: "SUBMIT"
        case .error: "ERROR"
        }
    }
}

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
            "timestamp": .int(Int64(clamping: clock().nanosecondsSinceEpoch / 1_000_000)), "workflowRunId": .string(runId ?? ""),
            "logLevel": .string(event.level), "eventType": .string(event.rawValue), "details": details,
        ]
        write(line.jsonText())
    }
}
