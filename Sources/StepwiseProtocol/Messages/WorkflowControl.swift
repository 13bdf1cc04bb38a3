/// The workflow headers of a message (§2.5): whether it starts a run or appends to one, the run,
/// the workflow endpoint, the kind of log entry and the SDK's feature set. For callbacks and
/// failure callbacks the same names appear behind their prefix (`Upstash-Callback-Workflow-RunId`).
public struct WorkflowControl: Sendable, Hashable {
    /// `Upstash-Workflow-Init`: `true` starts the run, `false` appends; `nil` for plain messages.
    public var isInit: Bool?
    /// `Upstash-Workflow-RunId` (Python writes `-Runid`; names are case-insensitive).
    public var runId: String?
    /// `Upstash-Workflow-Url`: the run's workflow endpoint.
    public var url: String?
    /// `Upstash-Workflow-CallType`; absent means `step`.
    public var callType: CallType?
    /// `Upstash-Workflow-Invoke: true` on the trigger of an invoked child run.
    public var isInvoke: Bool
    /// `Upstash-Feature-Set`: `LazyFetch`, `InitialBody`, `WF_DetectTrigger`, `WF_TriggerOnConfig`, …
    public var featureSet: [String]
    /// `Upstash-Workflow-Sdk-Version` as sent raw by the JS SDK.
    public var sdkVersion: String?
    /// `Upstash-Workflow-Trigger-By-Sdk: true`: the JS SDK triggers again a run whose first
    /// delivery said `Upstash-Workflow-Unknown-Sdk` (what Upstash's REST trigger may ask for).
    public var isTriggerBySDK: Bool = false

    /// Control headers with nothing set.
    public init(
        isInit: Bool? = nil, runId: String? = nil, url: String? = nil, callType: CallType? = nil, isInvoke: Bool = false,
        featureSet: [String] = [], sdkVersion: String? = nil
    ) {
        self.isInit = isInit
        self.runId = runId
        self.url = url
        self.callType = callType
        self.isInvoke = isInvoke
        self.featureSet = featureSet
        self.sdkVersion = sdkVersion
    }

    /// Whether the message belongs to a workflow run at all.
    public var isWorkflowMessage: Bool { runId != nil || isInit != nil }

    /// Whether `flag` is in the feature set.
    public func has(feature flag: String) -> Bool { featureSet.contains(flag) }

    /// Whether the SDK that sent the message reads its run's log itself when a delivery's body is
    /// empty (§4.4, lazy fetch). The JS SDK 1.x names `LazyFetch` with `WF_TriggerOnConfig`; the
    /// Python SDK 2.0.0 names `LazyFetch` too, but fails on an empty body, and never the other.
    public var fetchesLogLazily: Bool { has(feature: "LazyFetch") && has(feature: "WF_TriggerOnConfig") }

    /// Reads the control headers behind `prefix` (`upstash-`, `upstash-callback-`, …).
    init(headers: OptionHeaders) throws(ProtocolError) {
        self.init()
        isInit = try headers.flag("workflow-init")
        runId = headers.text("workflow-runid")
        url = headers.text("workflow-url")
        callType = try headers.parsed("workflow-calltype") { (text) throws(ProtocolError) in try CallType(wire: text) }
        isInvoke = try headers.flag("workflow-invoke") ?? false
        featureSet = headers.text("feature-set").map { $0.split(separator: ",").map { $0.trimmingSpaces() } } ?? []
        sdkVersion = headers.text("workflow-sdk-version")
        isTriggerBySDK = try headers.flag("workflow-trigger-by-sdk") ?? false
    }
}
