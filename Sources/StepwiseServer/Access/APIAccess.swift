import Foundation
import StepwiseEngine
import StepwiseProtocol

/// Who may use the API: the bearer token every route but `/health` and webhook URLs requires, and the browser
/// protections that keep a web page the operator visits from driving the server (cross-site
/// requests that change state, and DNS rebinding against a server bound to loopback).
///
/// Pure decisions over a request's method, path and headers; `APIAccessMiddleware` applies them.
public struct APIAccess: Sendable {
    /// The token clients send as `Authorization: Bearer <token>`, known by its digest and followed
    /// as other nodes replace it.
    let token: CurrentToken
    /// The host names the server answers to, lowercased without ports; `nil` accepts any host
    /// (a server bound to a public address, typically behind a proxy that checks the host).
    let allowedHosts: Set<String>?
    /// The dashboard's sign-ins, whose session cookie stands for the token.
    let sessions: DashboardSessions

    /// Access with `token`, for a server bound to `boundHost`: when that is a loopback address,
    /// requests must name a loopback host (`localhost`, `127.0.0.1`, `[::1]`) or one of
    /// `extraHosts` in `Host`.
    public init(token: String, boundHost: String, extraHosts: [String] = [], sessions: DashboardSessions = DashboardSessions()) {
        self.init(token: CurrentToken(fixed: SharedToken(token: token)), boundHost: boundHost, extraHosts: extraHosts, sessions: sessions)
    }

    /// Access with the token nodes share (`SharedToken.resolve`, followed in the store).
    public init(token: CurrentToken, boundHost: String, extraHosts: [String] = [], sessions: DashboardSessions = DashboardSessions()) {
        self.token = token
        self.sessions = sessions
        allowedHosts = Self.isLoopback(boundHost) ? Set(extraHosts.map { $0.lowercased() }) : nil
    }

    /// Why a request is refused, or `nil` when it may go ahead, `token` being the current one.
    func refusal(method: String, path: String, headers: AccessHeaders, token: SharedToken) -> AccessRefusal? {
        if headers.repeatsHost {
            return AccessRefusal(status: 400, message: "the request has more than one Host header")
        }
        if let host = headers.host, !HostHeader.isWellFormed(host) {
            return AccessRefusal(status: 400, message: "the Host header is not a host and an optional port")
        }
        if let host = headers.host, !accepts(host: host) {
            return AccessRefusal(
                status: 403,
                message: "host '\(host)' is not allowed: this server listens on loopback and answers only to loopback names "
                    + "(a protection against DNS rebinding); add the name with --allowed-host if a proxy forwards it")
        }
        // A webhook URL is its own credential (`WebhookController`), and is called from anywhere.
        if Self.isWebhook(path) { return nil }
        if !Self.safeMethods.contains(method), let problem = crossSiteProblem(headers) {
            return AccessRefusal(status: 403, message: "cross-site request refused: \(problem)")
        }
        if Self.publicPaths.contains(path) { return nil }
        if let session = headers.sessionId, sessions.isValid(session, for: token) { return nil }
        guard let presented = headers.bearerToken else {
            return AccessRefusal(status: 401, message: "this API needs `Authorization: Bearer <token>` (the token of `stepwise serve`)")
        }
        guard token.accepts(presented) else {
            return AccessRefusal(status: 401, message: "the bearer token is not this server's")
        }
        return nil
    }

    private static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// What anyone may fetch: the health and readiness checks, and the dashboard's page, script, style, icon and
    /// sign-in (which holds nothing of the server's and checks the token itself).
    private static let publicPaths: Set<String> = ["/health", "/ready", "/", "/dashboard/app.js", "/dashboard/app.css", "/dashboard/icon.svg", "/dashboard/session"]

    /// Whether `path` is the URL of a `createWebhook` step: its prefix and three segments, none
    /// empty or a dot segment, so no path the router could read as another route passes.
    static func isWebhook(_ path: String) -> Bool {
        guard path.hasPrefix(WebhookController.pathPrefix) else { return false }
        let segments = path.dropFirst(WebhookController.pathPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        return segments.count == 3 && segments.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    private func accepts(host: String) -> Bool {
        guard let allowedHosts else { return true }
        let name = Self.hostName(host)
        return Self.isLoopback(name) || allowedHosts.contains(name)
    }

    /// A browser names the page that sent a request in `Origin` and says whether it is another
    /// site in `Sec-Fetch-Site`; either way a request from another origin is refused.
    private func crossSiteProblem(_ headers: AccessHeaders) -> String? {
        if let site = headers.fetchSite, site == "cross-site" || site == "same-site" {
            return "Sec-Fetch-Site is \(site)"
        }
        guard let origin = headers.origin else { return nil }
        guard let url = URL(string: origin), let originHost = url.host, let host = headers.host else {
            return "the request comes from origin '\(origin)'"
        }
        let originAuthority = Self.authority(host: originHost, port: url.port, scheme: url.scheme)
        let serverAuthority = Self.authority(host: Self.hostName(host), port: Self.port(host), scheme: url.scheme)
        return originAuthority == serverAuthority ? nil : "the request comes from origin '\(origin)', not from this server"
    }

    private static func authority(host: String, port: Int?, scheme: String?) -> String {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return "\(name):\(port ?? (scheme == "https" ? 443 : 80))"
    }

    /// `Host` without its port and brackets, lowercased.
    static func hostName(_ host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("[") {
            return String(lowered.dropFirst().prefix { $0 != "]" })
        }
        guard lowered.filter({ $0 == ":" }).count == 1, let colon = lowered.firstIndex(of: ":") else { return lowered }
        return String(lowered[..<colon])
    }

    private static func port(_ host: String) -> Int? {
        guard let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") else { return nil }
        return Int(host[host.index(after: colon)...])
    }

    /// Whether `host` (a name or an address without port) always means this machine.
    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// The headers (and the query's token) that access decisions read.
struct AccessHeaders: Sendable {
    var host: String?
    var origin: String?
    var fetchSite: String?
    var authorization: String?
    /// QStash's other way to present the token: `?qstash_token=<token>`.
    var queryToken: String? = nil
    /// The dashboard's session cookie, if the request carries one.
    var sessionId: String? = nil
    /// Whether a second `Host` line came after the one in `host`: a proxy in front could read
    /// the other one, so its host check would not be this server's (RFC 9112 §3.2: a 400).
    var repeatsHost = false

    /// The token of `Authorization: Bearer <token>`, else of the query.
    var bearerToken: String? {
        authorization.flatMap(TokenMatch.bearer) ?? queryToken
    }
}

/// A refused request: the status and a message for people.
struct AccessRefusal: Sendable, Equatable {
    let status: Int
    let message: String
}
