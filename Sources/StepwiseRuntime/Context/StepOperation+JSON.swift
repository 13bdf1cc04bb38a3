import StepwiseExpressions

extension StepOperation {
    /// The operation as JSON, for the store (secrets stay references, see `CallRequest`).
    public var json: Value {
        var map = ValueMap([("stepName", .string(stepName)), ("stepType", .string(stepType.rawValue))])
        switch kind {
        case .sleep(let until):
            map[.string("sleep")] = ["until": .string(until.description)]
        case .retry(let at, let error):
            map[.string("retry")] = ["at": .string(at.description), "error": error.value]
        case .wait(let event, let timeoutAt):
            map[.string("wait")] = ["event": .string(event), "timeoutAt": .string(timeoutAt.description)]
        case .call(let request):
            map[.string("call")] = request.json
        case .invoke(let workflow, let input):
            map[.string("invoke")] = ["workflow": .string(workflow), "input": input]
        case .notify(let event, let data):
            map[.string("notify")] = ["event": .string(event), "data": data]
        }
        return .map(map)
    }

    /// Reads an operation written by `json`; `nil` when it is not one.
    public init?(json: Value) {
        guard case .map(let map) = json, case .string(let name)? = map[.string("stepName")],
            case .string(let typeName)? = map[.string("stepType")], let type = StepType(rawValue: typeName),
            let kind = Self.kind(map)
        else { return nil }
        self.init(stepName: name, stepType: type, kind: kind)
    }

    private static func kind(_ map: ValueMap) -> Kind? {
        func field(_ object: Value?, _ name: String) -> Value? {
            guard case .map(let fields)? = object else { return nil }
            return fields[.string(name)]
        }
        func time(_ value: Value?) -> TimestampValue? {
            guard case .string(let text)? = value else { return nil }
            return try? TimestampValue(parsing: text)
        }
        if let sleep = map[.string("sleep")], let until = time(field(sleep, "until")) { return .sleep(until: until) }
        if let retry = map[.string("retry")], let at = time(field(retry, "at")), let error = field(retry, "error").flatMap(StepError.init(value:)) {
            return .retry(at: at, error: error)
        }
        if let wait = map[.string("wait")], case .string(let event)? = field(wait, "event"), let timeoutAt = time(field(wait, "timeoutAt")) {
            return .wait(event: event, timeoutAt: timeoutAt)
        }
        if let call = map[.string("call")], let request = CallRequest(json: call) { return .call(request) }
        if let invoke = map[.string("invoke")], case .string(let workflow)? = field(invoke, "workflow") {
            return .invoke(workflow: workflow, input: field(invoke, "input") ?? .null)
        }
        if let notify = map[.string("notify")], case .string(let event)? = field(notify, "event") {
            return .notify(event: event, data: field(notify, "data") ?? .null)
        }
        return nil
    }

    /// The store's name for the kind.
    public var kindName: String {
        switch kind {
        case .sleep: "sleep"
        case .retry: "retry"
        case .wait: "wait"
        case .call: "call"
        case .invoke: "invoke"
        case .notify: "notify"
        }
    }
}
