import Foundation
import StepwiseEngine
import Synchronization

/// The dashboard's sign-ins on this node: a browser that presented the API token gets a random
/// session id in an `HttpOnly`, `SameSite=Strict` cookie instead of keeping the token itself.
/// Sessions live in memory for `lifetime` (a restart, or another node, asks to sign in again), and
/// end when the token they were opened with is replaced: rotating a leaked token shuts out the
/// browsers signed in with it.
public final class DashboardSessions: Sendable {
    /// The cookie's name.
    public static let cookie = "stepwise_session"
    let lifetime: Duration
    private struct Session {
        let ends: ContinuousClock.Instant
        /// The digest of the token presented at sign-in.
        let tokenDigest: String
    }
    private let open = Mutex<[String: Session]>([:])

    /// Sessions that last `lifetime` from sign-in.
    public init(lifetime: Duration = .seconds(12 * 3_600)) {
        self.lifetime = lifetime
    }

    /// A new session's id (32 random bytes, hex), for a browser that presented `token`.
    func start(with token: SharedToken) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let now = ContinuousClock.now
        open.withLock { sessions in
            sessions = sessions.filter { $0.value.ends > now }
            sessions[id] = Session(ends: now + lifetime, tokenDigest: token.digest)
        }
        return id
    }

    /// Whether `id` names a session that has not ended and was opened with `token`, the current one.
    func isValid(_ id: String, for token: SharedToken) -> Bool {
        open.withLock { sessions in
            guard let session = sessions[id] else { return false }
            return session.ends > ContinuousClock.now && session.tokenDigest == token.digest
        }
    }

    /// Ends session `id`.
    func end(_ id: String) {
        _ = open.withLock { $0.removeValue(forKey: id) }
    }

    /// The session id in a `Cookie` header, if any.
    static func id(inCookieHeader header: String?) -> String? {
        header?.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(cookie + "=") }.map { String($0.dropFirst(cookie.count + 1)) }
    }
}
