import StepwiseLanguage

/// The name of a QStash queue (`/v2/enqueue/<queue>/…`, `/v2/queues`) or URL group (`/v2/topics`,
/// a publish whose destination is not a URL): letters, digits, `-`, `_` and `.`, at most 100
/// characters, so it is one path segment as it is and never taken for a URL.
public enum QStashName {
    /// The longest name accepted.
    public static let maximumLength = 100

    /// What a queue's flow-control key starts with (the rest is the queue's name); messages may
    /// not name such a key themselves.
    public static let queueFlowKeyPrefix = Concurrency.reservedKeyPrefix

    /// Whether `name` follows the rule.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maximumLength
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// `name` when it is a valid name of a `kind` ("queue", "URL group"); otherwise an error
    /// naming it and the rule.
    public static func validated(_ name: String, as kind: String) throws(ProtocolError) -> String {
        guard isValid(name) else { throw ProtocolError("'\(name)' is not a \(kind) name: 1 to \(maximumLength) letters, digits, '-', '_' or '.'") }
        return name
    }

    /// `name` when a new `kind` may take it: a valid name other than `.` and `..`, which clients
    /// that normalize paths (browsers, `fetch`, curl) read as a folder, so that no request of
    /// theirs could name the queue or group again. Names stored before this rule still parse.
    public static func validatedNew(_ name: String, as kind: String) throws(ProtocolError) -> String {
        let valid = try validated(name, as: kind)
        guard !isDotSegment(valid) else { throw ProtocolError("'\(name)' cannot name a new \(kind): clients would read it as a path's folder") }
        return valid
    }

    /// Whether `text` is a path's dot segment, `.` or `..`.
    public static func isDotSegment(_ text: String) -> Bool {
        text == "." || text == ".."
    }
}
