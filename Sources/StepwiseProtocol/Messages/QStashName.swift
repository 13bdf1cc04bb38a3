/// The name of a QStash queue (`/v2/enqueue/<queue>/…`, `/v2/queues`) or URL group (`/v2/topics`,
/// a publish whose destination is not a URL): letters, digits, `-`, `_` and `.`, at most 100
/// characters, so it is one path segment as it is and never taken for a URL.
public enum QStashName {
    /// The longest name accepted.
    public static let maximumLength = 100

    /// What a queue's flow-control key starts with (the rest is the queue's name); messages may
    /// not name such a key themselves.
    public static let queueFlowKeyPrefix = "queue:"

    /// Whether `name` follows the rule. `.` and `..` do not: clients that normalize paths (browsers,
    /// `fetch`, curl) would read them as the path's own or parent folder, so no request could name them.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maximumLength && !isDotSegment(name)
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// `name` when it is a valid name of a `kind` ("queue", "URL group"); otherwise an error
    /// naming it and the rule.
    public static func validated(_ name: String, as kind: String) throws(ProtocolError) -> String {
        guard isValid(name) else {
            throw ProtocolError("'\(name)' is not a \(kind) name: 1 to \(maximumLength) letters, digits, '-', '_' or '.', and not '.' or '..'")
        }
        return name
    }

    /// Whether `text` is a path's dot segment, `.` or `..`.
    public static func isDotSegment(_ text: String) -> Bool {
        text == "." || text == ".."
    }
}
