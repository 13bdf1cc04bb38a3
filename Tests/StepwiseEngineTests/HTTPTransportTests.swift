import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// The engine's HTTP transport over real loopback sockets: what it sends, what it hands back, and
/// the bounds it keeps (response size, deadline).
@Suite("AsyncHTTPTransport over loopback", .timeLimit(.minutes(3)))
struct HTTPTransportTests {
    static func request(_ url: String, method: String = "GET", body: String? = nil, milliseconds timeout: Int128 = 10_000) throws -> OutgoingRequest {
        OutgoingRequest(
            method: method, url: url, headers: [("X-Order", "A-7"), ("Content-Type", "application/json")], body: body.map { Array($0.utf8) },
            timeout: try DurationValue(nanoseconds: timeout * 1_000_000))
    }

    @Test("a request goes out with its method, headers and body; the answer comes back with its status, headers and whole body")
    func roundTrip() async throws {
        try await CountingServer.with { server in
            server.fallback("/orders", ScriptedResponse(status: 201, body: #"{"id": 7}"#, headers: [("X-Trace", "t-1")]))
            let response = try await AsyncHTTPTransport().send(try Self.request(server.url("/orders"), method: "POST", body: #"{"n": 1}"#))
            #expect(response.status == 201)
            #expect(response.header("x-trace") == "t-1")
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"id": 7}"#)
            let received = try #require(server.requests(to: "/orders").first)
            #expect(received.method == "POST" && received.body == #"{"n": 1}"# && received.header("X-Order") == "A-7")
        }
    }

    @Test("a URL's user name and password never reach a failure's text: refused, timed out, or redirected too often")
    func credentialsOfAURLStayOutOfFailures() async throws {
        #expect(OutgoingRequest.withoutUserInfo("https://ops:s3cret@example.com:8443/p?q=1") == "https://***@example.com:8443/p?q=1")
        #expect(OutgoingRequest.withoutUserInfo("https://example.com/a@b") == "https://example.com/a@b", "an @ past the authority is not a user")
        for password in ["se#cret", "se?cret", "se/cret", "#secret"] {
            let shown = OutgoingRequest.withoutUserInfo("https://ops:\(password)@example.com/p")
            #expect(shown == "https://***@example.com/p", "a password with an unescaped delimiter is hidden whole: \(shown)")
        }
        for plain in ["https://example.com:8443/@alice", "http://localhost:3000/api?to=ops@example.com"] {
            #expect(OutgoingRequest.withoutUserInfo(plain) == plain, "a port is no password")
        }
        try await CountingServer.with { server in
            server.fallback("/slow", .json("{}", delay: .seconds(5)))
            server.fallback("/loop", ScriptedResponse(status: 302, body: "", headers: [("Location", "/loop")]))
            let credentialed = { (path: String) in server.url(path).replacingOccurrences(of: "http://", with: "http://ops:s3cret@") }
            let cases = [
                try Self.request("http://ops:s3cret@127.0.0.1:1/refused"),
                try Self.request(credentialed("/slow"), milliseconds: 200),
                try Self.request(credentialed("/loop")),
            ]
            for request in cases {
                do throws(TransportFailure) {
                    _ = try await AsyncHTTPTransport().send(request)
                    Issue.record("\(request.url) answered")
                } catch {
                    #expect(!error.message.contains("s3cret") && !error.message.contains("ops:"), "\(error.message)")
                    #expect(error.message.contains("***@127.0.0.1") || error.message.contains("a redirect of http://***@"), "\(error.message)")
                }
            }
        }
    }

    @Test("a body larger than the transport's limit is a failure naming the limit, never a truncated answer")
    func oversizedBody() async throws {
        try await CountingServer.with { server in
            server.fallback("/big", .json("[" + String(repeating: "1,", count: 100) + "1]"))
            server.fallback("/small", .json("[1]"))
            let transport = AsyncHTTPTransport(maximumResponseBytes: 64)
            let big = try Self.request(server.url("/big"))
            let failure = await #expect(throws: TransportFailure.self) { try await transport.send(big) }
            #expect(failure?.kind == .responseTooLarge)
            #expect(failure?.message == "the response to GET \(server.url("/big")) is larger than 64 bytes")
            #expect(try await transport.send(try Self.request(server.url("/small"))).body == Array("[1]".utf8))
            // Without a Content-Length the body is counted as it arrives.
            server.fallback("/chunked", ScriptedResponse(body: "[" + String(repeating: "2,", count: 100) + "2]", chunked: true))
            let chunked = try Self.request(server.url("/chunked"))
            let counted = await #expect(throws: TransportFailure.self) { try await transport.send(chunked) }
            #expect(counted?.kind == .responseTooLarge)
            #expect(counted?.message == "the response to GET \(server.url("/chunked")) is larger than 64 bytes")
        }
    }

    @Test("a HEAD answer announcing a length past the limit is an answer, not a failure")
    func announcedLengthWithoutBody() async throws {
        try await CountingServer.with { server in
            server.fallback("/big", .json("[" + String(repeating: "1,", count: 100) + "1]"))
            let head = try await AsyncHTTPTransport(maximumResponseBytes: 64).send(try Self.request(server.url("/big"), method: "HEAD"))
            #expect(head.status == 200 && head.body.isEmpty)
        }
    }

    @Test("only http and https URLs are requested: a Unix socket or another scheme is an invalid request, sent nowhere")
    func schemes() async throws {
        for url in ["http+unix://%2Fvar%2Frun%2Fdocker.sock/info", "unix:///var/run/docker.sock", "ftp://127.0.0.1/x", "127.0.0.1:8080/x"] {
            let request = try Self.request(url)
            let failure = await #expect(throws: TransportFailure.self) { try await AsyncHTTPTransport().send(request) }
            #expect(failure?.kind == .invalidRequest, "\(url)")
        }
    }

    @Test("a port or host a connection cannot use is an invalid request, sent nowhere, and a redirect to one is not followed; the process stays up")
    func unusablePorts() async throws {
        for url in ["http://127.0.0.1:99999/x", "http://[::1]:65536/x", "http://localhost:84468/x", "http://127.0.0.1:0/x", "http://%5B%5D/", "http://%5B/x"] {
            let request = try Self.request(url)
            let failure = await #expect(throws: TransportFailure.self) { try await AsyncHTTPTransport().send(request) }
            #expect(failure?.kind == .invalidRequest, "\(url)")
        }
        try await CountingServer.with { server in
            server.fallback("/away", .redirect(to: "http://127.0.0.1:99999/x"))
            let answer = try await AsyncHTTPTransport().send(try Self.request(server.url("/away")))
            #expect(answer.status == 302, "the redirect is the answer")
        }
    }

    @Test("a refused connection is told in words, not in the HTTP client's type names")
    func refusedConnectionsInWords() async throws {
        let transport = AsyncHTTPTransport(clients: AsyncHTTPTransport.deliveryClients)
        let failure = await #expect(throws: TransportFailure.self) { try await transport.send(try Self.request("http://127.0.0.1:9/x")) }
        #expect(failure?.kind == .connection)
        #expect(failure?.message == "GET http://127.0.0.1:9/x failed: connection refused", "\(String(describing: failure))")
    }

    @Test("a header the client refuses is an invalid request, not retried, and its value is never repeated")
    func refusedHeaders() async throws {
        var request = try Self.request("http://127.0.0.1:9/x")
        request.headers.append((name: "X-Token", value: "abc.def.secret-tail\n"))
        let failure = await #expect(throws: TransportFailure.self) { try await AsyncHTTPTransport(clients: AsyncHTTPTransport.deliveryClients).send(request) }
        #expect(failure?.kind == .invalidRequest)
        #expect(failure?.message == "GET http://127.0.0.1:9/x cannot be sent: invalid header field values", "\(String(describing: failure))")
    }

    @Test("a canceled step cancels its request at once instead of waiting for the answer")
    func cancellation() async throws {
        try await CountingServer.with { server in
            server.fallback("/slow", .json("{}", delay: .seconds(20)))
            let request = try Self.request(server.url("/slow"), milliseconds: 30_000)
            let clock = ContinuousClock()
            let started = clock.now
            let sending = Task { try await AsyncHTTPTransport().send(request) }
            while server.requests(to: "/slow").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            sending.cancel()
            await #expect(throws: TransportFailure.self) { try await sending.value }
            #expect(clock.now - started < .seconds(15), "the request went on after the cancellation")
        }
    }

    @Test("no answer within the request's timeout is a timeout failure")
    func timeout() async throws {
        try await CountingServer.with { server in
            server.fallback("/slow", .json("{}", delay: .seconds(5)))
            let slow = try Self.request(server.url("/slow"), milliseconds: 300)
            let failure = await #expect(throws: TransportFailure.self) { try await AsyncHTTPTransport().send(slow) }
            #expect(failure?.kind == .timeout)
        }
    }

    @Test("the timeout covers the body too: an answer whose body stalls after its head is a timeout failure, not a hung step")
    func stalledBody() async throws {
        try await CountingServer.with { server in
            server.fallback("/stalled", ScriptedResponse(body: #"{"rows": [1, 2, 3, 4, 5, 6, 7, 8]}"#, pauseInBody: .seconds(10)))
            // 2 s for the head, which comes at once even on a loaded machine; the body never does.
            let stalled = try Self.request(server.url("/stalled"), milliseconds: 2_000)
            let clock = ContinuousClock()
            let started = clock.now
            let failure = await #expect(throws: TransportFailure.self) { try await AsyncHTTPTransport().send(stalled) }
            #expect(failure?.kind == .timeout)
            #expect(clock.now - started < .seconds(8), "the step waited for the stalled body")
        }
    }

    @Test("a step canceled before its request starts fails at once and sends nothing")
    func canceledBeforeStart() async throws {
        try await CountingServer.with { server in
            server.fallback("/ping", .json("[1]"))
            let request = try Self.request(server.url("/ping"))
            // One client with an idle connection to the server: a request it started would be
            // written at once.
            let transport = AsyncHTTPTransport(clients: [AsyncHTTPTransport.processClients[0]])
            _ = try await transport.send(request)
            let sent = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await transport.sendKeepingSecrets(request)
            }
            guard case .failure(let failure) = await sent.value else {
                Issue.record("a canceled step's request was answered")
                return
            }
            #expect(failure.kind == .connection)
            // A request that went out would have arrived by now: the server answers at once.
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.requests(to: "/ping").count == 1, "the canceled request reached the server")
            #expect(try await transport.send(request).body == Array("[1]".utf8), "the transport still sends")
        }
    }
}
