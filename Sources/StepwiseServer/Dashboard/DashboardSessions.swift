import Foundation
import Synchronization

/// The dashboard's sign-ins on this node: a browser that presented the API token gets a random
/// session id in an `HttpOnly`, `SameSite=Strict` cookie instead of keeping the token itself.
/// Sessions live in memory for `lifetime` (a restart, or another node, asks to sign in again).
public final class DashboardSessions: Sendable {
    /// The cookie's name.
    public static let cookie = "stepwise_session"
    let lifetime: Duration
    private let open = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Sessions that last `lifetime` from sign-in.
    public init(lifetime: Duration = .seconds(12 * 3_600)) {
        self.lifetime = lifetime
    }

    /// A new session's id (32 random bytes, hex).
    func start() -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let now = ContinuousClock.now
        open.withLock { sessions in
            sessions = sessions.filter { $0.value > now }
            sessions[id] = now + lifetime
        }
        return id
    }

    /// Whether `id` names a session that has not ended.
    func isValid(_ id: String) -> Bool {
        open.withLock { $0[id].map { $0 > ContinuousClock.now } ?? false }
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
