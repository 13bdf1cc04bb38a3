import Crypto
import StepwiseExpressions

/// QStash's deduplication of published messages (`Upstash-Deduplication-Id`,
/// `Upstash-Content-Based-Deduplication: true`): a message whose key was published within the
/// window before is accepted but not queued, and answered with the earlier message's id.
public enum MessageDeduplication {
    /// How long a key is remembered: QStash's 10 minutes (`qstash/openapi.yaml`).
    public static let window: Duration = .seconds(600)

    /// Whether `message` asks for deduplication: a non-empty deduplication id, or content-based.
    public static func isRequested(by message: PublishedMessage) -> Bool {
        message.options.deduplicationId?.isEmpty == false || message.options.contentBasedDeduplication
    }

    /// The key `message` is deduplicated by, if it asks for deduplication: a digest of its
    /// deduplication id, else (content-based) of its destination, body, content type and forwarded
    /// headers (in name order), the fields QStash's content-based deduplication reads. A digest
    /// keeps every key short, however long the id a client sends.
    public static func key(of message: PublishedMessage) -> String? {
        guard isRequested(by: message) else { return nil }
        var hasher = SHA256()
        // Each field is preceded by its length, so that no two different messages write the same bytes.
        func add(_ text: some Sequence<UInt8>) {
            let bytes = Array(text)
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        // The copies of one message to a URL group's endpoints share its id, not its fate: each is
        // deduplicated as the group's message to its endpoint.
        let group = message.urlGroup.map { [$0, message.destination] } ?? []
        if let id = message.options.deduplicationId, !id.isEmpty {
            add(id.utf8)
            for part in group { add(part.utf8) }
            return "id:" + Hex.encode(hasher.finalize())
        }
        for part in group { add(part.utf8) }
        add(message.destination.utf8)
        add(message.body ?? [])
        add((message.contentType ?? "").utf8)
        // By name, in the order sent among headers of one name (their values' order means something).
        let headers = message.options.forwardedHeaders.enumerated().map { ($0.element.name.lowercased(), $0.offset, $0.element.value) }
        for (name, _, value) in headers.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            add(name.utf8)
            add(value.utf8)
        }
        return "content:" + Hex.encode(hasher.finalize())
    }
}
