/// One entry of QStash's message log (`/v2/events`): a message was queued, delivered, failed an
/// attempt, is retried, gave up, or was canceled, with what is known at that moment.
public struct MessageEvent: Sendable, Equatable {
    /// What happened, in QStash's names.
    public enum State: String, Sendable, CaseIterable {
        /// Queued (published, a callback, a retry from the DLQ).
        case created = "CREATED"
        /// An attempt was answered with success.
        case delivered = "DELIVERED"
        /// An attempt failed; a `retry` or `failed` follows.
        case error = "ERROR"
        /// Another attempt is due at `nextDeliveryAt`.
        case retry = "RETRY"
        /// The message gave up.
        case failed = "FAILED"
        /// Canceled before it was delivered.
        case canceled = "CANCELED"
    }

    /// The most bytes of a body an event keeps, of the message or of an answer.
    public static let maximumBodyBytes = 16 << 10

    /// Its place in the log, given by the store (0 before it is stored): later events have
    /// greater numbers.
    public var sequence: Int64
    /// When it happened, in milliseconds since the epoch.
    public var time: Int64
    /// What happened.
    public var state: State
    /// The message as queued, kept with its `created` event only, as the log shows it
    /// (`QueuedMessage.shown`), its body cut to `maximumBodyBytes` (none for a callback or a
    /// failure callback: their bodies carry the headers of the message they follow).
    public var message: QueuedMessage?
    /// The message's id.
    public var messageId: String
    /// The destination URL.
    public var url: String
    /// The URL group the message was published to.
    public var urlGroup: String?
    /// The QStash queue it was enqueued to.
    public var queue: String?
    /// The QStash schedule whose tick queued it.
    public var scheduleId: String?
    /// Its `Upstash-Label`.
    public var label: String?
    /// Its `Upstash-Flow-Control-Key`.
    public var flowControlKey: String?
    /// The IP address of the client that published it.
    public var callerIp: String?
    /// The workflow run it belongs to, if any.
    public var runId: String?
    /// Why an attempt failed (`error`, `failed`).
    public var error: String?
    /// When the next attempt is due (`retry`), in milliseconds since the epoch.
    public var nextDeliveryAt: Int64?
    /// The attempt's answer (`delivered`, `error`, `failed`).
    public var answer: AttemptAnswer?

    /// The event `state` of `message` at `time`; `message` is kept only for `created`.
    public init(_ state: State, of message: QueuedMessage, at time: Int64, error: String? = nil, nextDeliveryAt: Int64? = nil, answer: AttemptAnswer? = nil) {
        self.init(
            sequence: 0, time: time, state: state, message: state == .created ? Self.shown(message) : nil, messageId: message.id, url: message.destination,
            urlGroup: message.urlGroup, queue: message.queue, scheduleId: message.scheduleId, label: message.label,
            flowControlKey: message.flowControlKey, callerIp: message.callerIp, runId: message.runId ?? message.runIdHeader, error: error, nextDeliveryAt: nextDeliveryAt,
            answer: answer.map { AttemptAnswer(status: $0.status, headers: $0.headers, body: AttemptAnswer.prefix(of: $0.body, maximum: Self.maximumBodyBytes)) })
    }

    /// `message` as the log keeps it (`message`).
    private static func shown(_ message: QueuedMessage) -> QueuedMessage {
        var shown = message.shown
        shown.body = shown.body.map { AttemptAnswer.prefix(of: $0, maximum: maximumBodyBytes) }
        return shown
    }

    /// An event with every part given, as a store reads it back.
    public init(
        sequence: Int64, time: Int64, state: State, message: QueuedMessage?, messageId: String, url: String, urlGroup: String?, queue: String?,
        scheduleId: String?, label: String?, flowControlKey: String?, callerIp: String?, runId: String?, error: String?, nextDeliveryAt: Int64?, answer: AttemptAnswer?
    ) {
        self.sequence = sequence
        self.time = time
        self.state = state
        self.message = message
        self.messageId = messageId
        self.url = url
        self.urlGroup = urlGroup
        self.queue = queue
        self.scheduleId = scheduleId
        self.label = label
        self.flowControlKey = flowControlKey
        self.callerIp = callerIp
        self.runId = runId
        self.error = error
        self.nextDeliveryAt = nextDeliveryAt
        self.answer = answer
    }
}
