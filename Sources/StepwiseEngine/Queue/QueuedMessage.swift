import StepwiseExpressions
import StepwiseProtocol

/// A message of the QStash queue: what to deliver where, how often to try, and what follows
/// (a callback after each attempt, a failure callback when it finally fails). The store keeps it
/// until it is delivered or gives up; the engine decides everything else.
public struct QueuedMessage: Sendable, Codable, Equatable {
    /// QStash's retries when a message sets none.
    public static let defaultRetries = 3

    /// What the message is, which decides its body and what happens after an attempt.
    public enum Role: String, Sendable, Codable {
        /// A delivery to a workflow endpoint: its body is the run's log up to `logPosition`.
        case workflow
        /// A `context.call` to a third party; each attempt is followed by a callback.
        case call
        /// The answer of one call attempt, delivered to the workflow endpoint.
        case callback
        /// The notice that a run failed, delivered to its failure URL.
        case failureCallback
        /// A plain QStash message, unrelated to any run.
        case plain
        /// The end of an SDK run's wait: resolved by the engine itself, never sent.
        case waitTimeout
    }

    /// `msg_…`, also the `messageId` of the log entry it delivers.
    public var id: String
    public var role: Role
    /// The run it belongs to (plain messages: none).
    public var runId: String?
    public var destination: String
    public var method: String
    public var headers: [ForwardedHeader]
    public var contentType: String?
    /// The bytes to deliver (not for `workflow` messages, whose body is built from the log).
    public var body: [UInt8]?
    /// For `workflow` messages: the last log entry the delivery carries.
    public var logPosition: Int?
    /// Retries after the first attempt.
    public var retries: Int
    /// `Upstash-Retry-Delay`, in place of QStash's backoff.
    public var retryDelay: String?
    /// The longest one attempt may take.
    public var timeoutMilliseconds: Int64?
    /// The message that follows each attempt (calls, plain messages).
    public var callback: QueuedTarget?
    /// The message that follows the final failure.
    public var failureCallback: QueuedTarget?
    /// The failure callback of each of its callbacks (`Upstash-Callback-Failure-Callback`).
    public var callbackFailureCallback: QueuedTarget?
    /// The run id named in `Upstash-Workflow-RunId` on delivery.
    public var runIdHeader: String?
    /// `Upstash-Flow-Control-Key`/`-Value`: when the message may start (§10.1).
    public var flowControl: FlowControl?
    /// The QStash queue it was enqueued to, whose limits its `flowControl` names.
    public var queue: String?
    /// The URL group it was published to, as one copy per endpoint (plain messages).
    public var urlGroup: String?
    /// The name of the group's endpoint this copy goes to, if it has one.
    public var endpointName: String?
    /// `Upstash-Label`, for finding the message in the DLQ (plain messages).
    public var label: String?
    /// The QStash schedule whose tick queued it.
    public var scheduleId: String?
    /// `Upstash-Redact-Fields`: what the APIs show redacted (`shown`).
    public var redaction: MessageRedaction?
    /// The IP address of the client that published it (QStash's `callerIp`), a schedule's tick its
    /// schedule's; none for what the engine queues itself (callbacks, failure callbacks).
    public var callerIp: String?
    /// The `Upstash-Flow-Control-Key` it was published with, which QStash's filters find it by;
    /// none for a queue's message, counted under its queue's own key.
    public var flowControlKey: String? { queue == nil ? flowControl?.key : nil }
    /// Attempts made so far (`Upstash-Retried` of the next one).
    public var attempt: Int
    /// Set on a run's first delivery when its trigger asked for `WF_DetectTrigger`: an answer
    /// without `Upstash-Workflow-Sdk-Version` shows a destination that is no workflow endpoint,
    /// and fails the run at once (`QueuedAttemptResolver`). `nil` (not asked) in most messages,
    /// and in those stored before it existed.
    public var detectsWorkflowEndpoint: Bool?
    /// With `detectsWorkflowEndpoint`: the run was started through the REST API, and QStash words
    /// a destination that is no workflow endpoint as one running an SDK older than 1.0.
    public var isRESTTrigger: Bool?
    /// Set on a step delivery or a call's callback when the SDK that published it reads its run's
    /// log itself from an empty body (`WorkflowControl.fetchesLogLazily`): a large body may then
    /// go out empty (`LazyFetch`). `nil` for every other SDK, and in messages stored before it.
    public var fetchesLog: Bool?
    /// The key of the QStash queue whose slot it keeps taken until it ends: the callbacks and
    /// failure callbacks of a queue's message (the queue's next message waits for them, as
    /// QStash's do). `nil` for every other message.
    public var queueSlot: String?
    /// When the next attempt is due (a column of the store, not part of the stored form).
    public var dueAt: TimestampValue = .epoch

    /// A message with the given parts.
    public init(
        id: String = QueuedMessage.freshId(), role: Role, runId: String?, destination: String, method: String = "POST",
        headers: [ForwardedHeader] = [], contentType: String? = nil, body: [UInt8]? = nil, logPosition: Int? = nil,
        retries: Int = QueuedMessage.defaultRetries, retryDelay: String? = nil, timeoutMilliseconds: Int64? = nil,
        callback: QueuedTarget? = nil, failureCallback: QueuedTarget? = nil, callbackFailureCallback: QueuedTarget? = nil,
        runIdHeader: String? = nil, flowControl: FlowControl? = nil,
        queue: String? = nil, urlGroup: String? = nil, label: String? = nil, scheduleId: String? = nil, redaction: MessageRedaction? = nil,
        attempt: Int = 0, dueAt: TimestampValue
    ) {
        self.id = id
        self.role = role
        self.runId = runId
        self.destination = destination
        self.method = method
        self.headers = headers
        self.contentType = contentType
        self.body = body
        self.logPosition = logPosition
        self.retries = retries
        self.retryDelay = retryDelay
        self.timeoutMilliseconds = timeoutMilliseconds
        self.callback = callback
        self.failureCallback = failureCallback
        self.callbackFailureCallback = callbackFailureCallback
        self.runIdHeader = runIdHeader
        self.flowControl = flowControl
        self.queue = queue
        self.urlGroup = urlGroup
        self.label = label
        self.scheduleId = scheduleId
        self.redaction = redaction
        self.attempt = attempt
        self.dueAt = dueAt
    }

    /// The key of the queue slot it takes: its flow control's concurrency key, or the slot of the
    /// queue's message it follows (`queueSlot`). Its end frees the slot for what waits.
    public var slotKey: String? { flowControl?.concurrencyKey ?? queueSlot }

    /// The slot a queue's message keeps taken from its first attempt until it ends, its callbacks
    /// included (QStash's queues); `nil` for every other message.
    public var heldQueueSlot: String? { queue == nil ? queueSlot : flowControl?.concurrencyKey }

    /// Whether it is a plain QStash message, of no run (a failed run's notice to its failure URL is
    /// plain but names its run).
    public var isPlain: Bool { role == .plain && runId == nil && runIdHeader == nil }

    /// Whether it serves its run's progress (a delivery to the workflow endpoint, a call, a call's
    /// callback), and so has nothing left to do once the run ended.
    public var servesItsRun: Bool { runId != nil && [.workflow, .call, .callback].contains(role) }

    /// A new message id, `msg_` and 32 random hex digits.
    public static func freshId() -> String {
        "msg_" + RandomHex.digits(32)
    }

    /// The stored form without the body, which the store keeps as bytes beside it.
    enum CodingKeys: String, CodingKey {
        case id, role, runId, destination, method, headers, contentType, logPosition, retries, retryDelay, timeoutMilliseconds,
            callback, failureCallback, callbackFailureCallback, runIdHeader, flowControl, queue, urlGroup, endpointName, label, scheduleId,
            redaction, attempt, detectsWorkflowEndpoint, isRESTTrigger, callerIp, fetchesLog, queueSlot
    }
}
