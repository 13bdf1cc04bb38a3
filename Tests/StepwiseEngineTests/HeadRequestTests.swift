import StepwiseTesting
import Testing

/// `HEAD` wherever `GET` is served, as HTTP requires: uptime monitors and load balancers' health
/// checks use it.
@Suite("HEAD requests")
struct HeadRequestTests {
    private static func head(_ path: String, authorized: Bool = false, closing: Bool = true) -> String {
        "HEAD \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (authorized ? "Authorization: Bearer \(RunningServer.token)\r\n" : "")
            + (closing ? "Connection: close\r\n" : "") + "\r\n"
    }

    @Test("HEAD answers as GET would, with its status and Content-Length and no body; the token is checked as for GET; a stream's HEAD ends at once, its connection kept")
    func headAnswersAsGet() async throws {
        try await RunningServer.with([]) { server in
            let get = try await send(.GET, server.url("/health"))
            let health = await RawConnection.exchange(Self.head("/health"), port: server.port)
            #expect(health.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(health)")
            #expect(health.contains("Content-Length: \(get.body.utf8.count)\r\n"), "\(health)")
            #expect(health.hasSuffix("\r\n\r\n"), "no body after the head: \(health)")

            let refused = await RawConnection.exchange(Self.head("/api/runs"), port: server.port)
            #expect(refused.hasPrefix("HTTP/1.1 401 "), "\(refused)")
            #expect(refused.hasSuffix("\r\n\r\n"), "\(refused)")
            let runs = await RawConnection.exchange(Self.head("/api/runs", authorized: true), port: server.port)
            #expect(runs.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(runs)")

            // The change feed streams until the client leaves: its HEAD ends at once, and the
            // next request on the connection is answered.
            let both = await RawConnection.exchange(Self.head("/api/events", authorized: true, closing: false) + Self.head("/health"), port: server.port)
            #expect(both.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3, "\(both)")
            #expect(both.hasSuffix("\r\n\r\n"), "\(both)")
            let missing = await RawConnection.exchange(Self.head("/no-such-page", authorized: true), port: server.port)
            #expect(missing.hasPrefix("HTTP/1.1 404 "), "\(missing)")
        }
    }
}
