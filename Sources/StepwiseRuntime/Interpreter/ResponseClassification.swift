import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// How a response becomes a step's result: `{status, headers, body}`, or a failure when its
/// status is not expected.
public enum ResponseClassification {
    /// `nil` when the response is the step's result, otherwise why the step failed. Without
    /// `expected`, `http` steps fail on 5xx and 429 (`failsOnServerErrors`); `call` steps never do.
    public static func failure(of response: IncomingResponse, expected: [Int]?, failsOnServerErrors: Bool, step: String) -> StepError? {
        guard HTTPRequest.statusFails(response.status, expected: expected, failsOnServerErrors: failsOnServerErrors) else { return nil }
        let snippet = String(decoding: response.body.prefix(200), as: UTF8.self)
        return StepError(
            message: "HTTP \(response.status)" + (snippet.isEmpty ? "" : ": \(snippet)"), type: "HTTPError", step: step,
            status: response.status)
    }

    /// The step's result, or why the step failed: its status (`failure(of:…)`), or a body that
    /// is not JSON although `format` is `json` (`ResponseNotJSON`, retried only when `retry.on`
    /// names it).
    public static func outcome(
        of response: IncomingResponse, expected: [Int]?, format: String?, failsOnServerErrors: Bool, step: String
    ) -> Result<Value, StepError> {
        if let failure = failure(of: response, expected: expected, failsOnServerErrors: failsOnServerErrors, step: step) { return .failure(failure) }
        guard format == "json" else { return .success(result(of: response, format: format)) }
        do {
            return .success(result(of: response, body: try Value(valueJSON: String(decoding: response.body, as: UTF8.self))))
        } catch {
            return .failure(StepError(
                message: "HTTP \(response.status): the body is not JSON, as `response: json` requires (\(error.description))", type: "ResponseNotJSON",
                step: step, status: response.status))
        }
    }

    /// `{status, headers, body}`: the body decoded as `format` says (`json`, `text`), or by the
    /// response's `Content-Type` when `format` is `nil`; JSON that does not parse stays text.
    public static func result(of response: IncomingResponse, format: String?) -> Value {
        let text = decodedText(of: response)
        let isJSON = format.map { $0 == "json" } ?? response.header("content-type").map(namesJSON) ?? false
        return result(of: response, body: isJSON ? ((try? Value(valueJSON: text)) ?? .string(text)) : .string(text))
    }

    /// The body as text in the `charset` its `Content-Type` names: ISO-8859-1 (`latin1`) and
    /// Windows-1252 are decoded as such; anything else as UTF-8, a byte that is not replaced by U+FFFD.
    static func decodedText(of response: IncomingResponse) -> String {
        let charset = response.header("content-type").flatMap(charset(of:))
        let encoding: String.Encoding? = switch charset {
        case "iso-8859-1", "latin1", "iso_8859-1", "l1": .isoLatin1
        case "windows-1252", "cp1252": .windowsCP1252
        default: nil
        }
        if let encoding, let text = String(bytes: response.body, encoding: encoding) { return text }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The `charset` parameter of a media type, lowercased and unquoted.
    private static func charset(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else { continue }
            return parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        }
        return nil
    }

    private static func result(of response: IncomingResponse, body: Value) -> Value {
        var headers = ValueMap()
        for header in response.headers { headers[.string(header.name.lowercased())] = .string(header.value) }
        return ["status": .int(Int64(response.status)), "headers": .map(headers), "body": body]
    }

    /// Whether a `Content-Type` names JSON (`application/json`, `application/problem+json`, in
    /// any case, as media types are): a scan of its bytes, which costs far less per response than
    /// the standard library's generic substring search.
    static func namesJSON(_ contentType: String) -> Bool {
        let json = UInt32(0x6A73_6F6E)  // "json"
        var window: UInt32 = 0
        for byte in contentType.utf8 {
            // OR-ing 0x20 lowercases ASCII letters; no other byte becomes one of "json"'s.
            window = window << 8 | UInt32(byte | 0x20)
            if window == json { return true }
        }
        return false
    }

    /// `Retry-After` in seconds (HTTP dates are rare from APIs and read as absent).
    public static func retryAfter(_ response: IncomingResponse) -> DurationValue? {
        guard let text = response.header("retry-after"), let seconds = Int64(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(min(seconds, 86_400))
    }
}
