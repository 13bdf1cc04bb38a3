import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// How QStash's API reports a message (`/v2/messages/{id}`), a DLQ entry (`/v2/dlq`) and an event
/// of the message log (`/v2/events`), in the shape the official clients parse; times in milliseconds since the epoch. Credentials a message
/// carries to its destination are never shown.
enum QStashMessageView {
    /// A queued message, published at `createdAt`.
    static func message(_ message: QueuedMessage, createdAt: Int64) -> Value {
        .map(ValueMap(fields(message, createdAt: createdAt)))
    }

    /// A DLQ entry: its message, with the answer of the last attempt.
    static func deadLetter(_ letter: MessageDeadLetter) -> Value {
        .map(ValueMap(fields(letter.message, createdAt: letter.createdAt) + [("dlqId", .string(letter.id))] + answerFields(letter.response)))
    }

    /// An attempt's answer as QStash reports it: `responseStatus`, `responseHeader`, and
    /// `responseBody` (or `responseBodyBase64`).
    static func answerFields(_ answer: AttemptAnswer) -> [(String, Value)] {
        [
            ("responseStatus", .int(Int64(answer.status))), ("responseHeader", headers(answer.headers)),
            body(answer.body, text: "responseBody", base64: "responseBodyBase64"),
        ]
    }

    /// Where and how a message is delivered: `messageId`, `url`, `method`, `header` (credentials
    /// redacted), `maxRetries`; without the body, which for a run's delivery is its log and for a
    /// callback repeats the headers of the call it follows, unredacted.
    static func deliveryFields(_ message: QueuedMessage) -> [(String, Value)] {
        let message = message.shown
        return [
            ("messageId", .string(message.id)), ("url", .string(message.destination)), ("method", .string(message.method)),
            ("maxRetries", .int(Int64(message.retries))),
            ("header", headers(of: message)),
        ]
    }

    /// An event of the message log; a `CREATED` event also shows the message as queued, its body
    /// in base64 as QStash's log does.
    static func event(_ event: MessageEvent) -> Value {
        var fields: [(String, Value)] = [
            ("time", .int(event.time)), ("messageId", .string(event.messageId)), ("state", .string(event.state.rawValue)), ("url", .string(event.url)),
        ]
        let optional: [(String, String?)] = [
            ("topicName", event.urlGroup), ("queueName", event.queue), ("scheduleId", event.scheduleId), ("label", event.label),
            ("workflowRunId", event.runId), ("error", event.error),
        ]
        fields += optional.compactMap { name, text in text.map { (name, .string($0)) } }
        if let label = event.label { fields.append(("labels", labels(label))) }
        if let next = event.nextDeliveryAt { fields.append(("nextDeliveryTime", .int(next))) }
        if let answer = event.answer { fields += answerFields(answer) }
        if let message = event.message { fields += queuedFields(message) }
        return .map(ValueMap(fields))
    }

    /// What a `CREATED` event tells of the message, in the log's names.
    private static func queuedFields(_ message: QueuedMessage) -> [(String, Value)] {
        var fields: [(String, Value)] = [
            ("method", .string(message.method)), ("maxRetries", .int(Int64(message.retries))),
            ("header", headers(of: message)),
        ]
        if let body = message.body { fields.append(("body", .string(Data(body).base64EncodedString()))) }
        if let timeout = message.timeoutMilliseconds { fields.append(("timeout", .int(timeout / 1_000))) }
        if let callback = message.callback { fields += [("callback", .string(callback.url)), ("callbackHeaders", headers(callback.headers))] }
        if let failure = message.failureCallback {
            fields += [("failureCallback", .string(failure.url)), ("failureCallbackHeaders", headers(failure.headers))]
        }
        if let retryDelay = message.retryDelay { fields.append(("retryDelayExpr", .string(retryDelay))) }
        if let endpoint = message.endpointName { fields.append(("endpointName", .string(endpoint))) }
        return fields + flowControlFields(message)
    }

    private static func fields(_ message: QueuedMessage, createdAt: Int64) -> [(String, Value)] {
        var fields = deliveryFields(message) + [("notBefore", .int(message.dueAt.millisecondsSinceEpoch)), ("createdAt", .int(createdAt))]
        let message = message.shown
        if let body = message.body { fields.append(Self.body(body, text: "body", base64: "bodyBase64")) }
        if let queue = message.queue { fields.append(("queueName", .string(queue))) }
        if let group = message.urlGroup { fields.append(("topicName", .string(group))) }
        if let endpoint = message.endpointName { fields.append(("endpointName", .string(endpoint))) }
        if let scheduleId = message.scheduleId { fields.append(("scheduleId", .string(scheduleId))) }
        if let label = message.label { fields += [("label", .string(label)), ("labels", labels(label))] }
        if let callback = message.callback {
            fields.append(("callback", .string(callback.url)))
            fields.append(("callbackHeader", headers(callback.headers)))
        }
        if let failureCallback = message.failureCallback {
            fields.append(("failureCallback", .string(failureCallback.url)))
            fields.append(("failureCallbackHeader", headers(failureCallback.headers)))
        }
        if let retryDelay = message.retryDelay { fields.append(("retryDelayExpression", .string(retryDelay))) }
        return fields + callerFields(message.callerIp) + flowControlFields(message)
    }

    /// The address of the client that published a message or created a schedule, under both of its
    /// names: qstash-js reads `callerIp`, Upstash's API reference names it `callerIP`.
    static func callerFields(_ callerIp: String?) -> [(String, Value)] {
        callerIp.map { [("callerIp", .string($0)), ("callerIP", .string($0))] } ?? []
    }

    /// The message's own flow control (a queue's is the queue's, not shown).
    private static func flowControlFields(_ message: QueuedMessage) -> [(String, Value)] {
        guard let flow = message.flowControl, let key = message.flowControlKey else { return [] }
        var fields: [(String, Value)] = [("flowControlKey", .string(key))]
        if let parallelism = flow.concurrencyLimit { fields.append(("parallelism", .int(Int64(parallelism)))) }
        if let rate = flow.rateLimit { fields.append(("rate", .int(Int64(rate)))) }
        if let period = flow.ratePeriod { fields.append(("period", .int(period / 1_000))) }
        return fields
    }

    /// A message's headers as QStash reports them (`headers(_:)`), its `Content-Type` among them.
    static func headers(of message: QueuedMessage) -> Value {
        headers(message.headers + (message.contentType.map { [ForwardedHeader("Content-Type", $0)] } ?? []))
    }

    /// Headers as QStash reports them: each name in canonical form (`X-Reason`) with its values,
    /// in order; credentials redacted (`ForwardedHeader.shown`).
    static func headers(_ headers: [ForwardedHeader]) -> Value {
        let grouped = Dictionary(grouping: headers.map(\.shown), by: { HeaderFields.canonicalName($0.name) }).sorted { $0.key < $1.key }
        return .map(ValueMap(grouped.map { ($0.key, .list($0.value.map { .string($0.value) })) }))
    }

    /// `bytes` as text under `text` when they are UTF-8, else in base64 under `base64`.
    static func body(_ bytes: [UInt8], text: String, base64: String) -> (String, Value) {
        if let decoded = String(validating: bytes, as: UTF8.self) { return (text, .string(decoded)) }
        return (base64, .string(Data(bytes).base64EncodedString()))
    }

    /// QStash's `labels`: the labels a label text names.
    static func labels(_ label: String) -> Value {
        .list(CommaList.items(label).map(Value.string))
    }
}
