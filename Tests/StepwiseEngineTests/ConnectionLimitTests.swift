import Foundation
import StepwiseServer
import Testing
import StepwiseTesting

/// Idle, slow and malformed clients over real TCP: the server closes idle connections and
/// requests whose head or body is too slow, stays reachable past its connection limit, and
/// answers bad framing with a status instead of silence.
@Suite("Connections: timeouts, limit and framing")
struct ConnectionLimitTests {
    static let greeting = """
        workflow: greet
        steps:
          - id: hello
            set: {text: "hi"}
        """

    static let quick = ConnectionLimits(
        idleTimeout: .seconds(1), headerTimeout: .milliseconds(800), bodyTimeout: .milliseconds(800), maximumConnections: 4)

    static let health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    @Test("an idle connection is closed after the idle timeout; one that keeps making requests is not")
    func idleConnections() async throws {
        try await RunningServer.with([try definition(Self.greeting)], limits: Self.quick) { server async throws in
            // The read timeout is far beyond the idle timeout: a loaded machine may run the server's timer late.
            let idle = try RawConnection(port: server.port, readTimeout: .seconds(30))
            let clock = ContinuousClock()
            let opened = clock.now
            let read = await idle.readAll()
            #expect(read.closed, "closed by the server before the read timeout; read for \(clock.now - opened): '\(read.text)'")
            // Each answer is read as soon as it is whole, and the next request follows, over more
            // than the idle timeout in all: the connection is never idle for long.
            let busy = try RawConnection(port: server.port, readTimeout: .seconds(30))
            let started = clock.now
            while clock.now - started < .milliseconds(1_500) {
                #expect(busy.write(Self.health))
                let answer = await busy.readResponse()
                #expect(RawConnection.status(of: answer.text) == 200 && !answer.closed, "kept open while in use")
                guard !answer.closed else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test("a connection that sends nothing is closed after the header timeout, not the idle timeout")
    func silentConnections() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(60), headerTimeout: .milliseconds(800), bodyTimeout: .seconds(60), maximumConnections: 4)
        try await RunningServer.with([try definition(Self.greeting)], limits: limits) { server async throws in
            let silent = try RawConnection(port: server.port, readTimeout: .seconds(30))
            let clock = ContinuousClock()
            let opened = clock.now
            let read = await silent.readAll()
            #expect(read.closed && clock.now - opened < .seconds(30), "closed after \(clock.now - opened): '\(read.text)'")
        }
    }

    @Test("a head sent a byte at a time and a body that trickles are cut off by their timeouts")
    func slowClients() async throws {
        try await RunningServer.with([try definition(Self.greeting)], limits: Self.quick) { server async throws in
            let head = "GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + String(repeating: "a", count: 40)
            #expect(try await Self.trickle(head, port: server.port), "the head never completed and the server hung up")
            let body = "POST /workflows/greet HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(RunningServer.token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + String(repeating: " ", count: 40)
            #expect(try await Self.trickle(body, port: server.port, from: body.count - 40))
            #expect(try await server.store.runs(.init()).isEmpty)
        }
    }

    @Test("past the connection limit new clients wait, and are answered once idle connections are closed")
    func connectionLimit() async throws {
        try await RunningServer.with([try definition(Self.greeting)], limits: Self.quick) { server async throws in
            // Read timeouts far beyond the idle timeout: a loaded machine may run the server's timers late.
            let held = try (0..<Self.quick.maximumConnections).map { _ in try RawConnection(port: server.port, readTimeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(200))
            let waiting = try RawConnection(port: server.port, readTimeout: .seconds(10))
            #expect(waiting.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
            let answer = await waiting.readAll()
            #expect(RawConnection.status(of: answer.text) == 200, "answered: \(answer.text)")
            for (index, connection) in held.enumerated() {
                let read = await connection.readAll()
                #expect(read.closed, "held connection \(index) was closed to make room; it read '\(read.text)'")
            }
        }
    }

    @Test("at the connection limit a keep-alive connection idling between requests makes room for a new client at once, the longest idle first")
    func idleConnectionsMakeRoom() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(120), headerTimeout: .seconds(60), bodyTimeout: .seconds(60), maximumConnections: 4)
        try await RunningServer.with([try definition(Self.greeting)], limits: limits) { server async throws in
            // Each makes one request and keeps its connection, as an HTTP client's pool does.
            var held: [RawConnection] = []
            for _ in 0..<limits.maximumConnections {
                let connection = try RawConnection(port: server.port, readTimeout: .seconds(30))
                #expect(connection.write(Self.health))
                let answer = await connection.readResponse()
                #expect(RawConnection.status(of: answer.text) == 200 && !answer.closed)
                held.append(connection)
            }
            // Before, the newcomer waited in the backlog for the two-minute idle timeout.
            let newcomer = try RawConnection(port: server.port, readTimeout: .seconds(30))
            #expect(newcomer.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
            let answer = await newcomer.readAll()
            #expect(RawConnection.status(of: answer.text) == 200, "answered: \(answer.text)")
            #expect(await held[0].readAll().closed, "the connection idle longest was closed")
            // The newest one was kept and still serves.
            #expect(held[3].write(Self.health))
            let kept = await held[3].readResponse()
            #expect(RawConnection.status(of: kept.text) == 200 && !kept.closed, "\(kept.text)")
        }
    }

    @Test("a full server closes connections whose clients send requests and read no answer, making room for a newcomer")
    func stalledConnectionsMakeRoom() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(120), headerTimeout: .seconds(60), bodyTimeout: .seconds(60), maximumConnections: 4)
        try await RunningServer.with([try definition(Self.greeting)], limits: limits) { server async throws in
            // Each asks for the dashboard's script hundreds of times and reads nothing: the answers
            // fill the sockets' buffers, and the server's writes stop.
            let requests = String(repeating: "GET /dashboard/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", count: 400)
            var stalling: [RawConnection] = []
            for _ in 0..<limits.maximumConnections {
                let connection = try RawConnection(port: server.port, readTimeout: .seconds(30))
                #expect(connection.write(requests))
                stalling.append(connection)
            }
            // Before, the newcomer waited in the backlog until a timeout ended one of them.
            let newcomer = try RawConnection(port: server.port, readTimeout: .seconds(30))
            #expect(newcomer.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
            let answer = await newcomer.readAll()
            #expect(RawConnection.status(of: answer.text) == 200, "answered: \(answer.text.prefix(200))")
            withExtendedLifetime(stalling) {}
        }
    }

    @Test("a full server's connection that goes idle closes only once its response is written whole")
    func fullServerAnswersWhole() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(120), headerTimeout: .seconds(60), bodyTimeout: .seconds(60), maximumConnections: 1)
        try await RunningServer.with([try definition(Self.greeting)], limits: limits) { server async throws in
            // With one connection allowed the server is full with each client's: a close as the
            // response ended, before it was written, lost it.
            for index in 0..<5 {
                let connection = try RawConnection(port: server.port, readTimeout: .seconds(30))
                #expect(connection.write(Self.health))
                let answer = await connection.readAll()
                #expect(RawConnection.status(of: answer.text) == 200 && answer.text.contains(#""status""#), "client \(index): '\(answer.text)'")
                #expect(answer.closed, "client \(index): closed after its answer, making room")
            }
        }
    }

    @Test("framing errors get an answer: malformed chunks 400, an announced oversized body 413 at once, also with Expect: 100-continue")
    func framing() async throws {
        try await RunningServer.with([try definition(Self.greeting)]) { server async throws in
            let start = "POST /workflows/greet HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(RunningServer.token)\r\n"
                + "Content-Type: application/json\r\n"
            let chunked = await RawConnection.exchange(
                start + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", port: server.port)
            #expect(RawConnection.status(of: chunked) == 400, "\(chunked)")
            let oversized = await RawConnection.exchange(
                start + "Content-Length: \(64 << 20)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", port: server.port)
            #expect(RawConnection.status(of: oversized) == 413, "\(oversized)")
            let plain = await RawConnection.exchange(start + "Content-Length: \(64 << 20)\r\nConnection: close\r\n\r\n{", port: server.port)
            #expect(RawConnection.status(of: plain) == 413, "\(plain)")
            #expect(try await server.store.runs(.init()).isEmpty)
        }
    }

    /// Sends `text` one byte every 100 ms after the first `from` bytes; whether the server closed
    /// the connection before the whole text was sent (5 s at most).
    private static func trickle(_ text: String, port: Int, from start: Int = 0) async throws -> Bool {
        let connection = try RawConnection(port: port, readTimeout: .milliseconds(50))
        let bytes = Array(text.utf8)
        guard connection.write(String(decoding: bytes[0..<start], as: UTF8.self)) else { return true }
        for byte in bytes[start...] {
            guard connection.write(String(decoding: [byte], as: UTF8.self)) else { return true }
            try await Task.sleep(for: .milliseconds(100))
            if await connection.readAll().closed { return true }
        }
        return false
    }
}
