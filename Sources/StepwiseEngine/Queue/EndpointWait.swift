import StepwiseExpressions
import StepwiseProtocol

/// An SDK run waiting for an event (`POST /v2/wait/{eventId}`), as the store keeps it until a
/// notify or its timeout resolves it: the `Wait` step, and the publish each outcome becomes.
public struct EndpointWait: Sendable, Codable, Equatable {
    public var runId: String
    public var eventId: String
    /// The pending step's JSON text.
    public var step: String
    /// Where a notify delivers the run, with the wait request's own headers.
    public var url: String
    public var headers: [ForwardedHeader]
    /// The wait's length as the SDK wrote it.
    public var timeout: String
    /// Where the timeout delivers the run, with `timeoutHeaders`.
    public var timeoutUrl: String
    public var timeoutHeaders: [ForwardedHeader]
    /// The queued message that fires the timeout.
    public var timeoutMessageId: String

    /// The key of the wait in its run: its step, as the dedupe key of the result.
    public var stepKey: String { PublicationPlanner.dedupeKey(of: Array(step.utf8)) ?? step }

    /// The wait `request` of run `runId` on `eventId`, published with `headers`.
    public init(runId: String, eventId: String, request: WaitRequest, headers: HeaderFields, timeoutMessageId: String) {
        self.runId = runId
        self.eventId = eventId
        step = String(decoding: request.step.bytes, as: UTF8.self)
        url = request.url
        self.headers = headers.fields.map { ForwardedHeader($0.name, $0.value) }
        timeout = request.timeout
        timeoutUrl = request.timeoutUrl
        timeoutHeaders = request.timeoutHeaders.map { ForwardedHeader($0.name, $0.value) }
        self.timeoutMessageId = timeoutMessageId
    }

    /// The publish that completes the wait: the `Wait` result with the event's body (base64 in
    /// `out`) delivered to `url`, or, on timeout (`eventBody == nil`), without `out` and with
    /// `waitTimeout: true` delivered to `timeoutUrl`.
    public func resolution(eventBody: [UInt8]?) throws(ProtocolError) -> PublishedMessage {
        let result = try StepJSON(bytes: Array(step.utf8)).waitResolved(eventId: eventId, timeout: timeout, eventBody: eventBody)
        let (destination, fields) = eventBody == nil ? (timeoutUrl, timeoutHeaders) : (url, headers)
        return try PublishedMessage(destination: destination, headers: HeaderFields(fields.map { ($0.name, $0.value) }), body: result.bytes)
    }
}
