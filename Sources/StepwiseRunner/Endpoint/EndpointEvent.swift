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
