import StepwiseProtocol

/// Where a page of a run listing ended: the creation time (milliseconds) and id of its last run.
/// Its text form is opaque to clients, who pass it back to get the next page.
public struct RunCursor: Sendable, Equatable {
    /// When the last run of the page was created, in milliseconds since the epoch.
    public var createdAtMilliseconds: Int64
    /// The id of the last run of the page (breaks ties of creation time).
    public var runId: String

    /// The cursor after the run created at `createdAtMilliseconds` with id `runId`.
    public init(createdAtMilliseconds: Int64, runId: String) {
        self.createdAtMilliseconds = createdAtMilliseconds
        self.runId = runId
    }

    /// The cursor after `run`.
    public init(after run: RunRecord) {
        self.init(createdAtMilliseconds: run.createdAt.millisecondsSinceEpoch, runId: run.id)
    }

    /// The cursor as text for a URL query (base64url).
    public var text: String {
        Base64URL.encode("\(createdAtMilliseconds)/\(runId)".utf8, padded: false)
    }

    /// Reads `text` written by `text`; `nil` when it is not a cursor.
    public init?(text: String) {
        guard let bytes = Base64URL.decode(text), let decoded = String(validating: bytes, as: UTF8.self),
            let slash = decoded.firstIndex(of: "/"), let milliseconds = Int64(decoded[..<slash])
        else { return nil }
        let id = String(decoded[decoded.index(after: slash)...])
        guard !id.isEmpty else { return nil }
        self.init(createdAtMilliseconds: milliseconds, runId: id)
    }
}
