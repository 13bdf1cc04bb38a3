import StepwiseExpressions

/// The body of a delivery to a workflow endpoint: the run's log prefix `[{messageId, body,
/// callType}, …]`, whose first entry is the initial payload (§4.2 of the protocol notes;
/// `getRequestBody` in workflow-js `src/test-utils.ts` builds the same shape).
public struct RawStepArray: Sendable, Equatable {
    /// The entries in log order.
    public var steps: [RawStep]

    /// An array of the given entries.
    public init(_ steps: [RawStep]) {
        self.steps = steps
    }

    /// The initial payload bytes, `nil` for an empty array (a lazy-fetch delivery).
    public var initialPayload: [UInt8]? { steps.first?.body }

    /// The entries after the initial one that the SDKs decode as step JSON (`callType == step`).
    public func stepEntries() throws(ProtocolError) -> [StepJSON] {
        var decoded: [StepJSON] = []
        for (index, entry) in steps.enumerated().dropFirst() where entry.callType == .step {
            decoded.append(try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try entry.step() })
        }
        return decoded
    }

    /// The body as JSON bytes.
    public var jsonBytes: [UInt8] {
        WireJSON.bytes(.list(steps.map(\.json)))
    }

    /// Reads a delivery body (or a lazy-fetch answer); an empty body is an empty array.
    public init(jsonBytes: [UInt8]) throws(ProtocolError) {
        guard !jsonBytes.isEmpty else {
            steps = []
            return
        }
        guard case .list(let items) = try WireJSON.parse(jsonBytes, what: "the raw step array") else {
            throw ProtocolError("the raw step array must be a JSON array")
        }
        var steps: [RawStep] = []
        for (index, item) in items.enumerated() {
            steps.append(try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try RawStep(json: item) })
        }
        self.steps = steps
    }
}
