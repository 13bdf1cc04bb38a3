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

/// The request of an `http` or `call` step.
public struct HTTPRequest: Sendable {
    public var method: Located<String>
    public var url: ValueTemplate
    public var headers: [(name: String, value: ValueTemplate)]
    public var query: [(name: String, value: ValueTemplate)]
    public var body: ValueTemplate?
    public var auth: HTTPAuthentication?
    public var timeout: Located<DurationValue>?
    /// `expect.status`: the statuses that count as success; others fail the step.
    public var expectedStatuses: [Int]?
    /// `response`: how to decode the body (`json`, `text`), or by `Content-Type` when `nil`.
    public var responseFormat: String?

    /// Whether a response with `status` fails the step: one `expected` does not list; without
    /// `expected`, a 5xx or 429 when `failsOnServerErrors` (`http` steps; a `call` step takes
    /// every status as its result). Any other status is the step's result, never retried.
    public static func statusFails(_ status: Int, expected: [Int]?, failsOnServerErrors: Bool) -> Bool {
        guard let expected else { return failsOnServerErrors && (status >= 500 || status == 429) }
        return !expected.contains(status)
    }

    public init(method: Located<String>, url: ValueTemplate) {
        self.method = method
        self.url = url
        headers = []
        query = []
    }
}

/// `auth` of a request: credentials taken from declared secrets.
public enum HTTPAuthentication: Sendable {
    case bearer(token: ValueTemplate)
    case basic(username: ValueTemplate, password: ValueTemplate)

    /// The credential values, for secret checks.
    public var values: [ValueTemplate] {
        switch self {
        case .bearer(let token): [token]
        case .basic(let username, let password): [username, password]
        }
    }
}

/// `wait_for_event: {event, timeout}`.
public struct EventWait: Sendable {
    public var event: ValueTemplate
    /// `nil` means the default of 7 days (the validator warns, unless `timeout` is written but invalid).
    public var timeout: Located<DurationValue>?
    /// Whether a `timeout` key is present (it may be invalid, and then `timeout` is `nil`).
    public var hasTimeoutKey = false
}

/// `notify: {event, data}`.
public struct EventNotification: Sendable {
    public var event: ValueTemplate
    public var data: ValueTemplate?
}

/// `invoke: {workflow, input}`: another workflow of the same runner.
public struct WorkflowInvocation: Sendable {
    public var workflow: Located<String>
    public var input: ValueTemplate?
}

/// One case of a `switch`: `when` (absent for `default`) and its steps.
public struct SwitchCase: Sendable {
    /// `nil` for the `default` case.
    public var condition: ValueTemplate?
    public var steps: [Step]
    public var span: SourceSpan
}

/// One named branch of a `parallel` step.
public struct ParallelBranch: Sendable {
    public var name: Located<String>
    public var steps: [Step]
}

/// `for_each: {items, concurrency, steps}`.
public struct ForEachLoop: Sendable {
    public var items: ValueTemplate
    public var concurrency: Located<Int>?
    public var steps: [Step]
}

/// `fail: {message, type}`.
public struct Failure: Sendable {
    public var message: ValueTemplate
    public var type: ValueTemplate?
}
