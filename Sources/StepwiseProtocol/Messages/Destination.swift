/// Destination URLs as QStash takes them: raw text, never re-encoded, `//` in paths kept.
public enum Destination {
    /// Accepts `http://host…` and `https://host…` (any case of the scheme); anything else is an error.
    public static func validate(_ url: String) throws(ProtocolError) {
        let lowered = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowered.hasPrefix($0) }) else {
            throw ProtocolError("'\(url)' is not an http(s) URL")
        }
        let host = url.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) else {
            throw ProtocolError("'\(url)' has no valid host")
        }
    }

    /// The URL after `prefix` in a raw request target (path and query exactly as received; a
    /// schedule's destination, which is never a URL group), query included.
    static func fromPublishTarget(_ target: String, prefix: String) throws(ProtocolError) -> String {
        let destination = try fromTarget(target, prefix: prefix)
        try validate(destination)
        return destination
    }

    /// Everything after `prefix` in a raw request target, but for QStash's token parameter, which
    /// admitted the request and is no part of the destination.
    static func fromTarget(_ target: String, prefix: String) throws(ProtocolError) -> String {
        guard target.hasPrefix(prefix) else { throw ProtocolError("the path must start with \(prefix)") }
        return TokenParameter.removed(from: String(target.dropFirst(prefix.count)))
    }
}

extension Destination {
    /// The host of `url` as QStash's `host` filter reads it: the authority after `://` without
    /// user information and port, lowercased; an IPv6 address keeps its brackets. Stores that
    /// match in SQL write the same rule there, so it stays this plain.
    public static func host(of url: String) -> String {
        var host = authority(of: url)
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return host[...close].lowercased() }
        return host.prefix { $0 != ":" }.lowercased()
    }

    /// The path of `url` as QStash's `path` filter reads it: what follows the authority up to a
    /// query or fragment, as written (not decoded); `/` when there is none.
    public static func path(of url: String) -> String {
        let rest = afterScheme(url).drop { !isAuthorityEnd($0) }
        let path = rest.prefix { $0 != "?" && $0 != "#" }
        return path.isEmpty ? "/" : String(path)
    }

    private static func authority(of url: String) -> Substring {
        afterScheme(url).prefix { !isAuthorityEnd($0) }
    }

    private static func afterScheme(_ url: String) -> Substring {
        guard let separator = url.range(of: "://") else { return url[...] }
        return url[separator.upperBound...]
    }

    private static func isAuthorityEnd(_ character: Character) -> Bool {
        character == "/" || character == "?" || character == "#"
    }
}
