import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// An error response carried through a `Result` (request parsing that already knows the answer).
struct ErrorAnswer: Error {
    let response: Response

    init(_ response: Response) {
        self.response = response
    }

    /// A JSON error answer with `status` and a `message` for people.
    init(_ status: HTTPResponse.Status, _ message: String) {
        self.init(JSONResponse.error(status, message))
    }

    /// The answer to a refused publish or wait: 400 when invalid or the run ended (then with
    /// QStash's text, which the JS SDK recognises), 404 when there is no such run.
    static func refused(_ refusal: PublishRefusal) -> Response {
        switch refusal {
        case .invalid(let error):
            return JSONResponse.error(.badRequest, error.message)
        case .unknownRun(let id):
            return JSONResponse.error(.notFound, "no workflow run with id '\(id)'")
        case .runIdTaken(let id):
            return JSONResponse.error(.conflict, "run id '\(id)' belongs to a run of another workflow; choose another")
        case .runInProgress:
            // Upstash's words: the SDKs' users match on them.
            return JSONResponse.error(.badRequest, "a workflow already exists, can not initialize a new one with same id")
        case .yamlRun(let id):
            return JSONResponse.error(.conflict, "run '\(id)' is a run of a YAML workflow: its steps are its definition's, it takes no SDK steps or waits")
        case .unknownURLGroup(let name):
            return JSONResponse.error(.notFound, "no URL group named '\(name)'; add endpoints with POST /v2/topics/\(name)/endpoints")
        case .runEnded(let status):
            let rejection = AppendRejection(runState: status == .canceled ? "cancelled" : status == .failed ? "failed" : "finished")
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .badRequest, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: rejection.jsonBytes)))
        }
    }
}
