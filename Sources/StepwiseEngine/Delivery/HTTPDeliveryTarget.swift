import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Delivers queued messages over HTTP as QStash does (§4.1, §8 of the protocol notes): the
/// message's method and forwarded headers, then QStash's own headers (a fresh `Upstash-Signature`
/// per attempt, `Upstash-Message-Id`, `Upstash-Retried`, the run's id and creation time), which
/// always win over forwarded ones.
public struct HTTPDeliveryTarget: DeliveryTarget {
    let transport: any HTTPTransport
    /// The attempt timeout when a message sets none (`Upstash-Timeout`), in milliseconds.
    let defaultTimeout: Int64
    let clock: @Sendable () -> TimestampValue

    /// A target sending through `transport`.
    public init(transport: any HTTPTransport, defaultTimeout: Int64, clock: @escaping @Sendable () -> TimestampValue) {
        self.transport = transport
        self.defaultTimeout = defaultTimeout
        self.clock = clock
    }

    public func deliver(_ message: QueuedMessage, body: [UInt8], runCreatedAt: TimestampValue?, key: SigningKey) async -> AttemptResult {
        var generator = SystemRandomNumberGenerator()
        let now = clock()
        let signature = RequestSigner(key: key).signature(
            body: body, destination: message.destination, now: Int64(clamping: now.nanosecondsSinceEpoch / 1_000_000_000), using: &generator)
        let headers = DeliveryHeaders(
            signature: signature, messageId: message.id, retried: message.attempt, runId: message.runIdHeader,
            runCreatedAt: message.role == .workflow ? runCreatedAt.map(\.millisecondsSinceEpoch) : nil,
            contentType: message.contentType, topicName: message.urlGroup, callerIp: message.callerIp, forwarded: message.headers.map { ($0.name, $0.value) })
        // Bounded to a day, so the duration is always representable.
        let timeout = min(max(message.timeoutMilliseconds ?? defaultTimeout, 1), 86_400_000)
        let request = OutgoingRequest(
            method: message.method, url: message.destination, headers: headers.fields.fields,
            // QStash passes the body as it is, whatever the method; a HEAD request has none.
            body: message.method == "HEAD" || (message.method == "GET" && body.isEmpty) ? nil : body,
            timeout: (try? DurationValue(nanoseconds: Int128(timeout) * 1_000_000)) ?? .zero)
        do {
            let response = try await transport.send(request)
            return .answered(status: response.status, headers: HeaderFields(response.headers), body: response.body)
        } catch {
            return .noAnswer(error.message)
        }
    }
}
