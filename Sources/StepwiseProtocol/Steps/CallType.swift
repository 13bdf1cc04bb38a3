/// What a log entry of a run is, from `Upstash-Workflow-CallType` on the message that appended it
/// (`src/types.ts` `RawStep.callType` in workflow-js): absent means `step`.
public enum CallType: String, Sendable, Hashable, CaseIterable {
    /// A step result, a plan step or the initial payload; the only kind the SDKs decode.
    case step
    /// The request of a `context.call`, delivered to the third party.
    case toCallback
    /// The callback carrying a `context.call` response back to the workflow endpoint.
    case fromCallback
    /// The failure-callback message of a failed run.
    case failureCall

    /// The call type named by `text`, compared case-insensitively as header values arrive in
    /// whatever case the SDK chose; an error for anything else.
    public init(wire text: String) throws(ProtocolError) {
        guard let known = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            throw ProtocolError("unknown call type '\(text)' (expected step, toCallback, fromCallback or failureCall)")
        }
        self = known
    }
}
