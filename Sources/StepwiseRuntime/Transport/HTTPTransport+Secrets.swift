import StepwiseLanguage
import StepwiseExpressions

extension HTTPTransport {
    /// Sends `request` so that nothing it returns reveals a secret the request carried: header
    /// values that HTTP cannot carry are refused before sending (with a message that names the
    /// header, never its value), and the response and any failure are redacted.
    public func sendKeepingSecrets(_ request: OutgoingRequest) async -> Result<IncomingResponse, TransportFailure> {
        if let problem = request.headerProblem() { return .failure(TransportFailure(.invalidRequest, problem)) }
        do {
            return .success(request.redactor.redact(try await send(request)))
        } catch {
            return .failure(request.redactor.redact(error))
        }
    }
}

extension OutgoingRequest {
    /// Why a header of the request cannot be sent, or `nil`. Control characters (a secret read
    /// from a file with its trailing newline) would be rejected by the HTTP client with an error
    /// that quotes the value; this message quotes only the header's name.
    func headerProblem() -> String? {
        for header in headers {
            guard let character = HTTPFieldSyntax.forbiddenScalar(in: header.value) else { continue }
            let source = secretHeaderNames.contains(header.name.lowercased()) ? "its value, which comes from a secret," : "its value"
            return "header '\(header.name)' cannot be sent: \(source) contains \(Self.describe(character)); "
                + "HTTP header values cannot hold control characters (a secret read from a file often ends with a newline)"
        }
        return nil
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "a line feed"
        case "\r": "a carriage return"
        case "\0": "a NUL character"
        default: "the control character U+\(String(scalar.value, radix: 16, uppercase: true))"
        }
    }
}
