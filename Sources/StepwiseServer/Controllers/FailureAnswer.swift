import Hummingbird
import Logging

/// The 500 answer to a failure of the store or engine: the details (a database's error text) go
/// to the log under a reference the answer names, never to the client.
struct FailureAnswer: Sendable {
    let logger: Logger

    /// Logs `error` as the reason `what` failed and answers 500 with its reference.
    func answer(_ what: String, _ error: any Error) -> Response {
        answer(what, String(describing: error))
    }

    /// `answer(_:_:)` with the failure already described.
    func answer(_ what: String, _ details: String) -> Response {
        JSONResponse.error(.internalServerError, message(what, details))
    }

    /// Logs `error` as the reason `what` failed; the message for the client, naming its reference.
    func message(_ what: String, _ error: any Error) -> String {
        message(what, String(describing: error))
    }

    private func message(_ what: String, _ details: String) -> String {
        let reference = "err_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        logger.error("\(what): \(details)", metadata: ["reference": .string(reference)])
        return "\(what): an internal error occurred; the server's log has the details under \(reference)"
    }
}
