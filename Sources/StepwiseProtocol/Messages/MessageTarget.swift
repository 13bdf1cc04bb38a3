/// Where a callback or failure callback of a message goes, and the options of that message
/// (`Upstash-Callback: <url>` with `Upstash-Callback-*`).
public struct MessageTarget: Sendable {
    /// The URL; empty for a failure callback left empty on purpose (the REST trigger's "use the
    /// endpoint's failure function").
    public var url: String
    /// The options and forwarded headers of the callback message.
    public var options: MessageOptions

    /// A target with the given parts.
    public init(url: String, options: MessageOptions = MessageOptions()) {
        self.url = url
        self.options = options
    }

    /// The target named by header `urlHeader` (lowercase) with the options behind `urlHeader-`;
    /// `nil` when the header is absent.
    static func read(from headers: HeaderFields, urlHeader: String) throws(ProtocolError) -> MessageTarget? {
        guard let field = headers.field(urlHeader) else { return nil }
        if !field.value.isEmpty {
            try ProtocolError.locating("header '\(field.name)'") { () throws(ProtocolError) in try Destination.validate(field.value) }
        }
        return MessageTarget(url: field.value, options: try MessageOptions(headers: headers, prefix: urlHeader + "-"))
    }
}
