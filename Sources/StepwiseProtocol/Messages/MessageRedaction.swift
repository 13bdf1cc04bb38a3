import Crypto
import StepwiseExpressions

/// `Upstash-Redact-Fields`: which parts of a message QStash's APIs and logs show only as
/// `REDACTED:<sha256>`, while deliveries carry them unchanged. The header is a comma-separated
/// list of `body`, `header` (every header), and `header[Name]` (`headers` is accepted for
/// `header`, as QStash's documentation spells it).
public struct MessageRedaction: Sendable, Codable, Equatable {
    /// Whether the body is redacted.
    public var body: Bool
    /// Whether every header is redacted.
    public var allHeaders: Bool
    /// The headers redacted by name, in lower case.
    public var headers: Set<String>

    /// A redaction of the given parts.
    public init(body: Bool = false, allHeaders: Bool = false, headers: Set<String> = []) {
        self.body = body
        self.allHeaders = allHeaders
        self.headers = headers
    }

    /// Reads the header's value; an error names the part that is not one of the forms above.
    public init(parsing text: String) throws(ProtocolError) {
        self.init()
        for part in text.split(separator: ",").map({ $0.trimmingSpaces() }) where !part.isEmpty {
            let lowered = part.lowercased()
            if lowered == "body" {
                body = true
            } else if lowered == "header" || lowered == "headers" {
                allHeaders = true
            } else if let name = Self.headerName(in: part) {
                headers.insert(name.lowercased())
            } else {
                throw ProtocolError("'\(part)' in Upstash-Redact-Fields is not body, header or header[Name]")
            }
        }
    }

    /// `REDACTED:` and the hex SHA-256 of `bytes`, as QStash shows a redacted field, so a value
    /// can be checked without being revealed.
    public static func redacted(_ bytes: [UInt8]) -> String {
        "REDACTED:" + Hex.encode(SHA256.hash(data: bytes))
    }

    /// Whether header `name` is redacted.
    public func redacts(header name: String) -> Bool {
        allHeaders || headers.contains(name.lowercased())
    }

    /// The `Name` of `header[Name]` or `headers[Name]`; `nil` for anything else.
    private static func headerName(in part: String) -> String? {
        for prefix in ["header[", "headers["] where part.lowercased().hasPrefix(prefix) && part.hasSuffix("]") {
            let name = part.dropFirst(prefix.count).dropLast()
            return name.isEmpty ? nil : String(name)
        }
        return nil
    }
}
