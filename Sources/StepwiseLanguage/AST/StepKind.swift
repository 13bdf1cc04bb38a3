import StepwiseExpressions

/// What a step does: exactly one kind per step (DESIGN §3).
public enum StepKind: Sendable {
    case http(HTTPRequest)
    case call(HTTPRequest)
    case sleep(ValueTemplate)
    case sleepUntil(ValueTemplate)
    case waitForEvent(EventWait)
    case notify(EventNotification)
    case invoke(WorkflowInvocation)
    case set([(name: String, value: ValueTemplate)])
    case `switch`([SwitchCase])
    case parallel([ParallelBranch])
    case forEach(ForEachLoop)
    case `return`(ValueTemplate)
    case fail(Failure)
    /// `cancel`: end the run as canceled, with an optional reason (text, templates allowed).
    /// The run does not fail, so `on_failure` does not run.
    case cancel(ValueTemplate?)

    /// Whether a step's `timeout` limits a step of this kind: a request's exchange or a wait.
    public var takesTimeout: Bool {
        switch self {
        case .http, .call, .waitForEvent: true
        default: false
        }
    }

    /// The kind's key in YAML.
    public var keyword: String {
        switch self {
        case .http: "http"
        case .call: "call"
        case .sleep: "sleep"
        case .sleepUntil: "sleep_until"
        case .waitForEvent: "wait_for_event"
        case .notify: "notify"
        case .invoke: "invoke"
        case .set: "set"
        case .switch: "switch"
        case .parallel: "parallel"
        case .forEach: "for_each"
        case .return: "return"
        case .fail: "fail"
        case .cancel: "cancel"
        }
    }

    /// Every kind keyword, in the order the reference lists them.
    public static let keywords = [
        "http", "call", "sleep", "sleep_until", "wait_for_event", "notify", "invoke", "set", "switch",
        "parallel", "for_each", "return", "fail", "cancel",
    ]

    /// Whether the kind's result is journaled (side effects and time) rather than recomputed.
    public var isDurable: Bool {
        switch self {
        case .http, .call, .sleep, .sleepUntil, .waitForEvent, .notify, .invoke: true
        case .set, .switch, .parallel, .forEach, .return, .fail, .cancel: false
        }
    }

    /// Whether the run ends at this step.
    public var endsRun: Bool {
        switch self {
        case .return, .fail, .cancel: true
        default: false
        }
    }

    /// The steps directly nested in this kind (cases, branches, loop body).
    public var nestedSteps: [Step] {
        switch self {
        case .switch(let cases): cases.flatMap(\.steps)
        case .parallel(let branches): branches.flatMap(\.steps)
        case .forEach(let loop): loop.steps
        default: []
        }
    }
}
