import StepwiseExpressions

/// A request to the URL of a `createWebhook` step (§6.4 of the protocol notes; workflow-js
/// `LazyCreateWebhookStep`, `LazyWaitForWebhookStep`): the `WaitForWebhook` step it completes
/// reads it back as `{method, header, body, proto, host, url}`, the body in base64 and left out
/// when empty, `url` being the path and query.
public struct WebhookRequest: Sendable, Equatable {
    public var method: String
    public var headers: HeaderFields
    public var body: [UInt8]
    /// `http` or `https`, as the request reached the server.
    public var proto: String
    public var host: String
    /// The request's path and query.
    public var url: String

    /// The step type of the waits a webhook completes; the other waits are completed only by
    /// authenticated notifies.
    public static let stepType = "WaitForWebhook"

    /// The request with these parts.
    public init(method: String, headers: HeaderFields, body: [UInt8], proto: String, host: String, url: String) {
        self.method = method
        self.headers = headers
        self.body = body
        self.proto = proto
        self.host = host
        self.url = url
    }

    /// The event body a `WaitForWebhook` step's `out` carries (in base64): the request as JSON.
    public var eventBody: [UInt8] {
        var fields: [(String, Value)] = [
            ("method", .string(method)), ("header", HeaderLists.json(headers.canonicallyGrouped)),
        ]
        if !body.isEmpty { fields.append(("body", .string(WireJSON.base64(body)))) }
        fields += [("proto", .string(proto)), ("host", .string(host)), ("url", .string(url))]
        return Array(Value.map(ValueMap(fields)).jsonText().utf8)
    }

    /// The prefix of the keys webhook calls that come before their waits are kept under for the
    /// run (lookback), apart from the events of notifies, so that no unauthenticated request
    /// completes a wait for an event; each call has a key of its own (`LookbackKey`), so several
    /// early calls of one URL complete as many waits, oldest first.
    public static func lookbackPrefix(eventId: String) -> String {
        LookbackKey.prefix(kind: lookbackKind, eventId: eventId)
    }

    /// The kind of a kept webhook call's key (`LookbackKey`).
    public static let lookbackKind = "webhook"

    /// Whether `log` (an SDK run's log) has the `CreateWebhook` step that made the webhook of
    /// `eventId`: the SDK publishes it before anyone can know the URL, so no other event id can be
    /// a webhook of the run. The initial payload (the first entry) is no step, whatever it holds;
    /// an entry is parsed only when its bytes name the step type.
    public static func created(eventId: String, in log: [RawStep]) -> Bool {
        let marker = Array(#""CreateWebhook""#.utf8)
        return log.dropFirst().contains { entry in
            guard entry.callType == .step, entry.body.firstRange(of: marker) != nil, let step = try? StepJSON(bytes: entry.body),
                step.stepType == "CreateWebhook", step.stepId > 0, case .value(let made)? = try? step.output()
            else { return false }
            return made["eventId"] == .string(eventId)
        }
    }

    /// Whether `eventId` has the shape of the JS SDK's webhook event ids (`evt_` and 15 of
    /// nanoid's letters, digits, `-` and `_`): a call with any other is refused before the run's
    /// log is read, since webhook calls need no token.
    public static func isEventIdShaped(_ eventId: String) -> Bool {
        guard eventId.hasPrefix("evt_") else { return false }
        let rest = eventId.utf8.dropFirst(4)
        return rest.count == 15 && rest.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "-"), UInt8(ascii: "_"): true
            default: false
            }
        }
    }

    /// Whether `step` (step JSON text) is a wait a webhook completes.
    public static func completes(step: String) -> Bool {
        (try? StepJSON(bytes: Array(step.utf8)))?.stepType == stepType
    }
}
