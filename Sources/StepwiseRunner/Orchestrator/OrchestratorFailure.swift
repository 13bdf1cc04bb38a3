/// A QStash API call that did not succeed: the orchestrator could not be reached, or answered
/// with an error status. The message never includes the token.
public struct OrchestratorFailure: Error, Sendable, CustomStringConvertible {
    /// The status of the answer, `nil` when there was none.
    public var status: Int?
    /// What failed, for people.
    public var message: String

    /// A failure of the call described by `message`.
    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }

    /// The message.
    public var description: String { message }

    /// QStash refused to append to a run that has ended (canceled, or finished by another
    /// delivery): nothing is left to do (§4.8; the SDKs answer 200).
    var runEnded: Bool { status == 400 && message.contains("can not append to a") }

    /// The orchestrator refused the message as larger than it takes (413): sending it again
    /// cannot help, and a delivery tried again would run the step again first.
    var tooLarge: Bool { status == 413 }
}
