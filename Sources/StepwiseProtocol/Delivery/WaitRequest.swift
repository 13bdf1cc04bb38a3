import StepwiseExpressions

/// The body of `POST /v2/wait/{eventId}` (§6.3 of the protocol notes; workflow-js
/// `LazyWaitEventStep.getBody`): where to deliver the run when the event comes (`url`, with the
/// request's own workflow headers) or when `timeout` passes (`timeoutUrl` with `timeoutHeaders`),
/// and the `Wait` step the result completes.
public struct WaitRequest: Sendable, Equatable {
    public var url: String
    /// The wait's length as the SDK wrote it (`7d`, `30s`); also echoed in the result step.
    public var timeout: String
    public var timeoutDuration: WireDuration
    public var timeoutUrl: String
    /// Publish headers of the timeout delivery, one value per name as the SDK sends them.
    public var timeoutHeaders: [(name: String, value: String)]
    /// The pending `Wait` step.
    public var step: StepJSON

    /// QStash's default when the SDK sends no timeout.
    public static let defaultTimeout = "7d"

    /// Reads a wait body; errors name the member that is wrong.
    public init(jsonBytes: [UInt8]) throws(ProtocolError) {
        let map = try WireJSON.object(try WireJSON.parse(jsonBytes, what: "the wait body"), what: "the wait body")
        guard let url = try map.string("url") else { throw ProtocolError("'url' is missing") }
        try ProtocolError.locating("'url'") { () throws(ProtocolError) in try Destination.validate(url) }
        self.url = url
        let timeout = try map.string("timeout") ?? Self.defaultTimeout
        self.timeout = timeout
        timeoutDuration = try ProtocolError.locating("'timeout'") { () throws(ProtocolError) in
            try WireDuration(parsing: timeout, bareSeconds: true)
        }
        let timeoutUrl = try map.string("timeoutUrl") ?? url
        try ProtocolError.locating("'timeoutUrl'") { () throws(ProtocolError) in try Destination.validate(timeoutUrl) }
        self.timeoutUrl = timeoutUrl
        timeoutHeaders = try HeaderLists.sendable(map[.string("timeoutHeaders")], what: "'timeoutHeaders'")
        guard let stepValue = map[.string("step")] else { throw ProtocolError("'step' is missing") }
        step = try ProtocolError.locating("'step'") { () throws(ProtocolError) in
            try StepJSON(object: try WireJSON.object(stepValue, what: "the step"))
        }
    }

    public static func == (lhs: WaitRequest, rhs: WaitRequest) -> Bool {
        lhs.url == rhs.url && lhs.timeout == rhs.timeout && lhs.timeoutUrl == rhs.timeoutUrl && lhs.step == rhs.step
            && lhs.timeoutHeaders.elementsEqual(rhs.timeoutHeaders) { $0.name == $1.name && $0.value == $1.value }
    }
}
