import Foundation
import StepwiseExpressions

/// The `format`s of an input schema that are checked: `date-time` (RFC 3339), `date`
/// (`YYYY-MM-DD`, a real day), `email`, `uri` (absolute, with a scheme), `uuid` and `ipv4`.
/// Others stay annotations, as JSON Schema allows.
enum StringFormat: String {
    case dateTime = "date-time"
    case date
    case email
    case uri
    case uuid
    case ipv4

    /// Whether `text` is of this format.
    func accepts(_ text: String) -> Bool {
        switch self {
        case .dateTime: return (try? TimestampValue(parsing: text)) != nil
        case .date: return (try? TimestampValue(parsing: text + "T00:00:00Z")) != nil && text.utf8.count == 10
        case .email: return Self.isEmail(text)
        case .uri: return Self.isAbsoluteURI(text)
        case .uuid: return Self.isUUID(text)
        case .ipv4: return Self.isIPv4(text)
        }
    }

    /// One `@` between a local part and a domain of labels, no spaces or control characters:
    /// what a form would accept, not every address RFC 5321 allows.
    private static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else { return false }
        return !parts[1].split(separator: ".", omittingEmptySubsequences: false).contains { $0.isEmpty }
    }

    private static func isAbsoluteURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex,
            !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }

    private static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    private static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(part) else { return false }
            return number <= 255 && (part.count == 1 || part.first != "0")
        }
    }
}
