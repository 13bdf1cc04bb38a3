import StepwiseProtocol

/// Where a page of a listing ordered by time and id ended: the time (milliseconds) and id of its
/// last item (a run by creation, a dead letter by failure). Its text form is opaque to clients,
/// who pass it back to get the next page.
public struct PageCursor: Sendable, Equatable {
    /// The time of the page's last item, in milliseconds since the epoch.
    public var milliseconds: Int64
    /// The id of the page's last item (breaks ties of time).
    public var id: String

    /// The cursor after the item at `milliseconds` with id `id`.
    public init(milliseconds: Int64, id: String) {
        self.milliseconds = milliseconds
        self.id = id
    }

    /// The cursor after `run`, in a listing by creation time.
    public init(after run: RunRecord) {
        self.init(milliseconds: run.createdAt.millisecondsSinceEpoch, id: run.id)
    }

    /// The cursor as text for a URL query (base64url).
    public var text: String {
        Base64URL.encode("\(milliseconds)/\(id)".utf8, padded: false)
    }

    /// Reads `text` written by `text`; `nil` when it is not a cursor.
    public init?(text: String) {
        guard let bytes = Base64URL.decode(text), let decoded = String(validating: bytes, as: UTF8.self),
            let slash = decoded.firstIndex(of: "/"), let milliseconds = Int64(decoded[..<slash])
        else { return nil }
        let id = String(decoded[decoded.index(after: slash)...])
        guard !id.isEmpty else { return nil }
        self.init(milliseconds: milliseconds, id: id)
    }
}
