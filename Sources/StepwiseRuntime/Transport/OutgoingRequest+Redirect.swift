import Foundation

extension OutgoingRequest {
    /// How many redirects a request follows before it fails.
    public static let maximumRedirects = 5

    /// Headers that carry credentials (lowercased): never sent to another origin, whether or not
    /// they came from a secret, and never shown.
    public static let credentialHeaderNames: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"]

    /// The request to send after `status` redirected it to `location`, or `nil` when the response
    /// is not a redirect to follow (not 301, 302, 303, 307 or 308, no usable `Location`, or a
    /// scheme other than http and https).
    ///
    /// 303, and 301/302 after a POST, become a GET without a body (what browsers and curl do);
    /// 307 and 308 keep the method and body. A redirect to another origin (scheme, host or port)
    /// drops `Authorization`, `Proxy-Authorization`, `Cookie` and every header that carries a
    /// secret, so a secret only ever reaches the origin the workflow named.
    public func redirected(status: Int, location: String?) -> OutgoingRequest? {
        guard [301, 302, 303, 307, 308].contains(status), let location, let base = URL(string: url),
            let target = URL(string: location, relativeTo: base)?.absoluteURL,
            Self.isRequestable(target), Self.authorityProblem(target) == nil
        else { return nil }
        var next = self
        next.url = target.absoluteString
        if status == 303 && method != "HEAD" || (status == 301 || status == 302) && method == "POST" {
            next.method = "GET"
            next.body = nil
            next.headers.removeAll { ["content-type", "content-length"].contains($0.name.lowercased()) }
        }
        if Origin(base) != Origin(target) {
            let dropped = secretHeaderNames.union(Self.credentialHeaderNames)
            next.headers.removeAll { dropped.contains($0.name.lowercased()) }
            next.secretHeaderNames = []
        }
        return next
    }

    /// How messages name this request when `original` is the URL the workflow asked for: that
    /// URL without credentials, or for a redirect only its target's origin. A redirect's path and query are what the
    /// server answered, and may echo a secret in a spelling redaction does not know (a URL parser
    /// escapes some characters of a `Location` and not others).
    public func shownURL(original: String) -> String {
        let named = Self.withoutUserInfo(original)
        guard url != original else { return named }
        guard let target = URL(string: url) else { return "a redirect of \(named)" }
        let origin = Origin(target)
        return "\(origin.scheme)://\(origin.host):\(origin.port)/… (a redirect of \(named))"
    }

    /// `url` with the user name and password of its authority (`https://user:secret@host/`)
    /// shown as `***`: credentials never reach an error, a log line or a stored attempt. A
    /// password with an unescaped `/`, `?` or `#` (`https://user:se#cret@host/`) ends the
    /// authority early: when what precedes that end has a `:` followed by something that is not a
    /// port, everything up to the URL's last `@` is hidden.
    public static func withoutUserInfo(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest[..<(rest.firstIndex { "/?#".contains($0) } ?? url.endIndex)]
        let brokenPassword = authority.lastIndex(of: ":").map { colon in !isPort(authority[authority.index(after: colon)...]) } ?? false
        guard let at = authority.lastIndex(of: "@") ?? (brokenPassword ? rest.lastIndex(of: "@") : nil) else { return url }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(url[at...])
    }

    /// Whether `text`, which follows an authority's last `:`, is a port: one or more ASCII digits.
    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// The scheme, host and port of a URL, with the scheme's default port filled in.
private struct Origin: Equatable {
    let scheme: String
    let host: String
    let port: Int

    init(_ url: URL) {
        scheme = url.scheme?.lowercased() ?? ""
        host = url.host?.lowercased() ?? ""
        port = url.port ?? (scheme == "https" ? 443 : 80)
    }
}
