import Hummingbird
import StepwiseExpressions

/// JSON responses built from `Value`, so integers and key order are exactly what the API promises.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: Value) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText() + "\n")))
    }

    /// `{"error": message}` plus any extra fields.
    static func error(_ status: HTTPResponse.Status, _ message: String, _ extra: [(String, Value)] = []) -> Response {
        make(status, .map(ValueMap([("error", .string(message))] + extra)))
    }
}
