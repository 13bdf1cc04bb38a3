import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// A run as the store keeps it.
public struct RunRecord: Sendable, Equatable {
    /// The most runs deep `invoke` nests: a workflow that invokes itself (or another that invokes
    /// it back) without end fails that invoke instead of starting runs forever, as on Upstash.
    public static let maximumInvokeDepth = 100

    public var id: String
    public var workflow: String
    public var definitionHash: String
    /// The input it was started with; a store's JSON text is decoded only when this is read.
    public var input: Value {
        get {
            switch storedInput {
            case .value(let value): value
            case .json(let text): (try? Value(json: text)) ?? .null
            }
        }
        set { storedInput = .value(newValue) }
    }
    private var storedInput: StoredInput
    public var status: RunStatus
    public var phase: RunPhase
    public var createdAt: TimestampValue
    public var updatedAt: TimestampValue
    public var output: Value?
    public var error: StepError?
    /// For a run started by an `invoke` step: the parent run and the step waiting for this one.
    public var parent: (runId: String, step: String)?
    /// Flow control: the run's keys, evaluated at start, with the limits of its definition.
    public var flowControl: FlowControl?
    /// For a run of an Upstash SDK workflow: its endpoint URL (such runs have no definition; their
    /// steps are the log the endpoint publishes).
    public var endpoint: String?
    /// For an SDK run started with `WF_TriggerOnConfig`: the options of its later messages.
    public var defaults: RunDefaults?
    /// For an SDK run started by another's `invoke`: where its end is reported.
    public var invoker: EndpointInvoker?
    /// Its label (`Upstash-Label` of its start, or of a resume from the DLQ since), as given:
    /// several, comma-separated, give it several `labels`.
    public var label: String?

    /// The flow-control key it is found by (Upstash's `flowControlKey` filter): a YAML run's
    /// `flowControl.key`; an SDK run's trigger's `Upstash-Flow-Control-Key` (none for a queue's),
    /// or the one a resume or restart from the DLQ gave it since.
    public var flowControlKey: String?
    /// The IP address of the client that started it (QStash's `callerIp`), when a request did.
    public var callerIp: String?
    /// When its workflow's `timeout` ends: its start plus the timeout, moved on by a resume from
    /// the DLQ to the resume plus the timeout; `nil` without a timeout (or for a run an older
    /// version stored, whose deadline is reckoned from its start).
    public var deadline: TimestampValue?

    /// The labels it is found by: those `label` names.
    public var labels: [String] { CommaList.items(label ?? "") }

    public init(
        id: String, workflow: String, definitionHash: String, input: Value, status: RunStatus = .running,
        phase: RunPhase = .main, createdAt: TimestampValue, updatedAt: TimestampValue, output: Value? = nil, error: StepError? = nil,
        parent: (runId: String, step: String)? = nil, flowControl: FlowControl? = nil, endpoint: String? = nil, defaults: RunDefaults? = nil,
        invoker: EndpointInvoker? = nil, label: String? = nil, flowControlKey: String? = nil
    ) {
        self.label = label
        self.flowControlKey = flowControlKey ?? flowControl?.key
        self.id = id
        self.workflow = workflow
        self.definitionHash = definitionHash
        self.storedInput = .value(input)
        self.status = status
        self.phase = phase
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.output = output
        self.error = error
        self.parent = parent
        self.flowControl = flowControl
        self.endpoint = endpoint
        self.defaults = defaults
        self.invoker = invoker
    }

    /// This record as `StoreTransaction.updateRun` leaves it: the new status and phase, the
    /// output and error when given (the old ones kept otherwise), changed at `time`.
    public func updated(status: RunStatus, phase: RunPhase, output: Value?, error: StepError?, at time: TimestampValue) -> RunRecord {
        var run = self
        run.status = status
        run.phase = phase
        run.output = output ?? self.output
        run.error = error ?? self.error
        run.updatedAt = time
        return run
    }

    /// Keeps `text`, the input as a store wrote it, to be decoded when read: a delivery reads its
    /// run at every step and needs the input only at the first, so its cost stays independent of
    /// the input's size.
    public mutating func setInput(json text: String) {
        storedInput = .json(text)
    }

    /// An input as given, or as stored.
    private enum StoredInput: Sendable {
        case value(Value)
        case json(String)
    }

    public static func == (lhs: RunRecord, rhs: RunRecord) -> Bool {
        lhs.id == rhs.id && lhs.workflow == rhs.workflow && lhs.definitionHash == rhs.definitionHash && lhs.input == rhs.input
            && lhs.status == rhs.status && lhs.phase == rhs.phase && lhs.createdAt == rhs.createdAt && lhs.updatedAt == rhs.updatedAt
            && lhs.output == rhs.output && lhs.error == rhs.error && lhs.parent?.runId == rhs.parent?.runId
            && lhs.parent?.step == rhs.parent?.step && lhs.flowControl == rhs.flowControl && lhs.endpoint == rhs.endpoint && lhs.defaults == rhs.defaults
            && lhs.invoker == rhs.invoker && lhs.label == rhs.label
    }
}
