/// The name of a QStash queue (`/v2/enqueue/<queue>/…`, `/v2/queues`): letters, digits, `-`, `_`
/// and `.`, at most 100 characters, so it is one path segment as it is.
public enum QueueName {
    /// The longest name accepted.
    public static let maximumLength = 100

    /// What a queue's flow-control key starts with (the rest is the queue's name); messages may
    /// not name such a key themselves.
    public static let flowKeyPrefix = "queue:"

    /// `name` when it is a valid queue name; otherwise an error naming it and the rule.
    public static func validated(_ name: String) throws(ProtocolError) -> String {
        guard !name.isEmpty, name.count <= maximumLength,
            name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else {
            throw ProtocolError("'\(name)' is not a queue name: 1 to \(maximumLength) letters, digits, '-', '_' or '.'")
        }
        return name
    }
}
