/// Sends each input as a raw HTTP/1.1 request to a running server on 127.0.0.1 and checks that the
/// server answers or closes the connection within `timeout`, then that `GET /health` still answers.
struct HTTPTarget: FuzzTarget {
    let name = "http"
    let mutator = Mutator(tokens: Mutator.httpTokens, maximumLength: 64 * 1024)
    let port: UInt16
    let timeout: Duration

    /// Valid requests for the server's routes, each with `extraHeaders` (such as a bearer token).
    static func seeds(extraHeaders: [String]) -> [[UInt8]] {
        let headers = extraHeaders.map { $0 + "\r\n" }.joined()
        func request(_ method: String, _ path: String, body: String? = nil, chunked: Bool = false) -> [UInt8] {
            var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)"
            if let body {
                text += "Content-Type: application/json\r\n"
                if chunked {
                    text += "Transfer-Encoding: chunked\r\n\r\n" + String(body.utf8.count, radix: 16) + "\r\n\(body)\r\n0\r\n\r\n"
                } else {
                    text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                }
            } else {
                text += "\r\n"
            }
            return Array(text.utf8)
        }
        return [
            request("POST", "/workflows/greeting", body: #"{"name": "Ada", "language": "fr"}"#),
            request("POST", "/workflows/greeting", body: #"{"name": "Grace"}"#, chunked: true),
            request("POST", "/workflows/greeting", body: #"{"name": ""}"#),
            request("GET", "/api/runs"),
            request("GET", "/api/runs?workflow=greeting&status=succeeded"),
            request("GET", "/api/runs/wfr_45c11602d5c34b65a46f9d17ae7e624e"),
            request("POST", "/v2/notify/order-paid", body: #"{"order": 42}"#),
            request("DELETE", "/v2/workflows/runs/wfr_45c11602d5c34b65a46f9d17ae7e624e"),
            request("GET", "/health"),
        ]
    }

    func run(_ input: [UInt8]) -> String? {
        guard let connection = HTTPConnection(port: port, timeout: timeout) else { return "no connection to 127.0.0.1:\(port)" }
        if connection.exchange(input) == .silent { return "no answer within \(timeout)" }
        let health = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard let probe = HTTPConnection(port: port, timeout: timeout) else { return "the server stopped listening afterwards" }
        guard case .answered(let status) = probe.exchange(health), status.hasPrefix("HTTP/") else {
            return "GET /health got no answer afterwards"
        }
        return nil
    }
}
