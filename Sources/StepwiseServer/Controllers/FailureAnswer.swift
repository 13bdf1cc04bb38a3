import Hummingbird
import Logging
import StepwiseEngine

/// The answer to a failure of the store or engine: 503 with `Retry-After` when the store is
/// unavailable for now, else 500. The details (a database's error text) go to the log under a
/// reference the answer names, never to the client.
struct FailureAnswer: Sendable {
    let logger: Logger
    /// The seconds a client is told to wait before trying again while the store is unavailable.
    static let retryAfterSeconds = 5

    /// Logs `error` as the reason `what` failed and answers 503 or 500 with its reference.
    func answer(_ what: String, _ error: any Error) -> Response {
        guard let unavailable = StoreUnavailable.meant(by: error) else { return answer(what, String(describing: error)) }
        var response = JSONResponse.error(.serviceUnavailable, message(what, unavailable))
        response.headers[.retryAfter] = String(Self.retryAfterSeconds)
        return response
    }

    /// `answer(_:_:)` with the failure already described.
    func answer(_ what: String, _ details: String) -> Response {
        JSONResponse.error(.internalServerError, message(what, details))
    }

    /// Logs `error` as the reason `what` failed; the message for the client, naming its reference.
    func message(_ what: String, _ error: any Error) -> String {
        guard let unavailable = StoreUnavailable.meant(by: error) else { return message(what, String(describing: error)) }
        let reference = logged(what, String(describing: unavailable), level: .warning)
        return "\(what): the database is unavailable; try again later (the server's log has the details under \(reference))"
    }

    private func message(_ what: String, _ details: String) -> String {
        let reference = logged(what, details, level: .error)
        return "\(what): an internal error occurred; the server's log has the details under \(reference)"
    }

    private func logged(_ what: String, _ details: String, level: Logger.Level) -> String {
        let reference = "err_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        logger.log(level: level, "\(what): \(details)", metadata: ["reference": .string(reference)])
        return reference
    }
}
