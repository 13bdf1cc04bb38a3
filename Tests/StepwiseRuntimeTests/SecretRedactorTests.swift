import StepwiseExpressions
import StepwiseRuntime
import Testing
import StepwiseTesting

@Suite("Secret redaction and redirects")
struct SecretRedactorTests {
    let redactor = SecretRedactor(secrets: ["p@ss\"word\n", "tok"])

    @Test("every form of a secret is replaced: as is, trimmed, JSON-escaped, in map keys and nested values")
    func forms() {
        #expect(redactor.redact("x p@ss\"word\n y") == "x [redacted] y")
        #expect(redactor.redact("quoted: p@ss\"word.") == "quoted: [redacted].")
        #expect(redactor.redact(#"{"k": "p@ss\"word\n"}"#) == #"{"k": "[redacted]"}"#)
        let value: Value = ["tok": ["list", .string("a tok b")], "n": 1]
        #expect(redactor.redact(value) == ["[redacted]": ["list", "a [redacted] b"], "n": 1])
        #expect(SecretRedactor.none.redact("tok") == "tok")
    }

    @Test("a header value with a control character is refused naming the header, never quoting the value")
    func controlCharacters() async throws {
        let request = try CallRequest(
            method: "GET", url: "http://127.0.0.1:9/", headers: [CallHeader(name: "X-Key", value: .secret("KEY"))], body: nil,
            timeout: try DurationValue(nanoseconds: 1_000_000_000), expectedStatuses: nil
        ).outgoing(secrets: EnvironmentSecrets(["KEY": "abc\r\n"]))
        let transport = ScriptedTransport([:])
        let sent = await transport.sendKeepingSecrets(request)
        guard case .failure(let failure) = sent else {
            Issue.record("the request was sent")
            return
        }
        #expect(failure.message.contains("header 'X-Key'") && failure.message.contains("carriage return"))
        #expect(!failure.message.contains("abc"))
        #expect(transport.requests.isEmpty, "nothing was sent")
    }

    @Test("redirects: 303 becomes GET, 307 keeps the method, another origin (host, port or scheme) loses secrets and credentials")
    func redirects() throws {
        let request = try CallRequest(
            method: "POST", url: "https://api.example.com/a",
            headers: [
                CallHeader(name: "X-Key", value: .secret("KEY")), CallHeader(name: "Authorization", value: .text("Bearer plain")),
                CallHeader(name: "Content-Type", value: .text("application/json")), CallHeader(name: "Trace", value: .text("1")),
            ],
            body: [1], timeout: try DurationValue(nanoseconds: 1_000_000_000), expectedStatuses: nil
        ).outgoing(secrets: EnvironmentSecrets(["KEY": "k"]))
        let seeOther = try #require(request.redirected(status: 303, location: "/b"))
        #expect(seeOther.method == "GET" && seeOther.body == nil && seeOther.url == "https://api.example.com/b")
        #expect(seeOther.header("Content-Type") == nil && seeOther.header("X-Key") == "k")
        let temporary = try #require(request.redirected(status: 307, location: "https://api.example.com:443/c"))
        #expect(temporary.method == "POST" && temporary.body == [1] && temporary.header("Authorization") != nil, "same origin")
        for elsewhere in ["https://other.example.com/", "https://api.example.com:8443/", "http://api.example.com/"] {
            let moved = try #require(request.redirected(status: 308, location: elsewhere))
            #expect(moved.header("X-Key") == nil && moved.header("Authorization") == nil, "\(elsewhere)")
            #expect(moved.header("Trace") == "1")
        }
        #expect(request.redirected(status: 200, location: "/b") == nil)
        #expect(request.redirected(status: 302, location: "ftp://example.com/") == nil)
    }
}
