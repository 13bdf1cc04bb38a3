import StepwiseRuntime

/// Destination URLs as QStash takes them: raw text, never re-encoded, `//` in paths kept.
public enum Destination {
    /// Accepts `http://host…` and `https://host…` (any case of the scheme) whose port, if written,
    /// is a number from 1 to 65535; anything else is an error.
    public static func validate(_ url: String) throws(ProtocolError) {
        let lowered = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowered.hasPrefix($0) }) else {
            throw ProtocolError("'\(url)' is not an http(s) URL")
        }
        let authority = url.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }), !hasUnusableHost(authority) else {
            throw ProtocolError("'\(url)' has no valid host")
        }
        if let port = port(in: authority), !port.isEmpty, !isValidPort(port) {
            throw ProtocolError("'\(url)' has port '\(port)'; a port is a number from 1 to 65535")
        }
    }

    /// Whether the host of `authority` is one no connection can use: an IPv6 address's bracket
    /// left open or empty, a bracket elsewhere, or a percent-encoding (`%5B%5D` is `[]` decoded),
    /// which a host name never needs.
    private static func hasUnusableHost(_ authority: Substring) -> Bool {
        let hostAndPort = withoutUserInfo(authority)
        guard hostAndPort.first == "[" else {
            let host = hostAndPort.prefix { $0 != ":" }
            return host.isEmpty || host.contains { $0 == "[" || $0 == "]" || $0 == "%" }
        }
        guard let close = hostAndPort.firstIndex(of: "]") else { return true }
        return hostAndPort.index(after: hostAndPort.startIndex) == close
    }

    /// The host and port of `authority`: what follows its last `@`, as URL parsers split it.
    private static func withoutUserInfo(_ authority: Substring) -> Substring {
        authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
    }

    /// Whether `text` is a port number a connection can use: digits only, 1 to 65535.
    private static func isValidPort(_ text: Substring) -> Bool {
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let port = Int(text) else { return false }
        return OutgoingRequest.usablePorts.contains(port)
    }

    /// The port written after the host of `authority` (without the colon), if any; an IPv6
    /// address's colons are inside its brackets.
    private static func port(in authority: Substring) -> Substring? {
        let hostAndPort = withoutUserInfo(authority)
        if hostAndPort.first == "[" {
            guard let close = hostAndPort.firstIndex(of: "]") else { return nil }
            let rest = hostAndPort[hostAndPort.index(after: close)...]
            return rest.first == ":" ? rest.dropFirst() : nil
        }
        return hostAndPort.firstIndex(of: ":").map { hostAndPort[hostAndPort.index(after: $0)...] }
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
    /// user information and port, its ASCII letters lowercased (`lowercasedHost`); an IPv6
    /// address keeps its brackets. Read by Unicode scalar, as the PostgreSQL store's regular
    /// expression reads it, so the two agree on every URL.
    public static func host(of url: String) -> String {
        var host = authority(of: url)
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.first == "[", let close = host.firstIndex(of: "]") { return lowercasedHost(String(host[...close])) }
        return lowercasedHost(String(host.prefix { $0 != ":" }))
    }

    /// The path of `url` as QStash's `path` filter reads it: what follows the authority up to a
    /// query or fragment, as written (not decoded); `/` when there is none.
    public static func path(of url: String) -> String {
        let rest = afterScheme(url).drop { !isAuthorityEnd($0) }
        let path = rest.prefix { $0 != "?" && $0 != "#" }
        return path.isEmpty ? "/" : String(path)
    }

    /// `host` with its ASCII letters lowercased and nothing else changed, as a host filter's value
    /// and a URL's host are compared: other letters' case depends on a database's locale.
    public static func lowercasedHost(_ host: String) -> String {
        String(String.UnicodeScalarView(host.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32) ?? $0 : $0 }))
    }

    private static func authority(of url: String) -> Substring.UnicodeScalarView {
        afterScheme(url).prefix { !isAuthorityEnd($0) }
    }

    /// What follows the scheme's `://`; nothing when the first `:` does not start one.
    private static func afterScheme(_ url: String) -> Substring.UnicodeScalarView {
        let scalars = url[...].unicodeScalars
        guard let colon = scalars.firstIndex(of: ":"), scalars[colon...].starts(with: "://".unicodeScalars) else { return scalars[scalars.endIndex...] }
        return scalars[scalars.index(colon, offsetBy: 3)...]
    }

    private static func isAuthorityEnd(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "/" || scalar == "?" || scalar == "#"
    }
}
