/// A QStash API call that did not succeed: the orchestrator could not be reached, or answered
/// with an error status. The message never includes the token.
public struct OrchestratorFailure: Error, Sendable, CustomStringConvertible {
    /// The status of the answer, `nil` when there was none.
    public var status: Int?
    public var message: String

    /// A failure of the call described by `message`.
    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }
}
