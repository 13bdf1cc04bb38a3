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

    @Test("a combining mark after a secret does not hide it, nor does another Unicode normalization of it")
    func unicodeNeighbours() {
        #expect(redactor.redact("x tok\u{301} y").unicodeScalars.elementsEqual("x [redacted]\u{301} y".unicodeScalars))
        let accented = SecretRedactor(secrets: ["caf\u{E9}-key"])
        #expect(accented.redact("is cafe\u{301}-key!") == "is [redacted]!")
        #expect(accented.redact("no secret here") == "no secret here")
    }

    @Test("the escapes of JSON encoders and percent-encodings of a secret are replaced too", arguments: [
        #"{"t": "sl\/ash<Go>&QQ \u00e9t\u00e9"}"#,  // PHP: the slash; Python: past ASCII
        #"{"t": "sl/ash\u003cGo\u003e\u0026QQ \u00e9t\u00e9"}"#,  // Go: <, > and &
        #"{"t": "sl\/ash\u003CGo\u003E\u0026QQ \u00E9t\u00E9"}"#,  // every escape, upper-case hex
        "t=sl%2Fash%3CGo%3E%26QQ+%C3%A9t%C3%A9", "t=sl/ash%3cGo%3e%26QQ%20%c3%a9t%c3%a9",  // a form; '/' kept, lower-case hex
    ])
    func encodedForms(text: String) {
        let redactor = SecretRedactor(secrets: ["sl/ash<Go>&QQ \u{E9}t\u{E9}"])
        let redacted = redactor.redact(text)
        #expect(redacted.contains(SecretRedactor.placeholder) && !redacted.contains("QQ"), "\(redacted)")
    }

    @Test("percent-encoders that keep other punctuation: PHP's urlencode encodes ~, Java's keeps *, JavaScript's keeps !'()*", arguments: [
        "k=a%21b*%7Ec+d", "k=a%21b%2A%7Ec+d", "k=a!b*~c%20d", "k=a%21b%2A~c%20d",
    ])
    func percentEncoders(text: String) {
        let redacted = SecretRedactor(secrets: ["a!b*~c d"]).redact(text)
        #expect(redacted == "k=[redacted]", "\(text) → \(redacted)")
    }

    @Test("a secret in a UTF-16 or Latin-1 body is redacted too")
    func otherEncodings() {
        let redactor = SecretRedactor(secrets: ["p\u{E4}ss-KEY"])
        let utf16 = Array("x p\u{E4}ss-KEY y".utf16).flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
        #expect(!String(decoding: redactor.redact(body: utf16), as: UTF8.self).contains("K\0E\0Y"))
        let latin1: [UInt8] = Array("x p".utf8) + [0xE4] + Array("ss-KEY y".utf8)
        #expect(redactor.redact(body: latin1) == Array("x [redacted] y".utf8))
    }

    @Test("a secret in a Windows-1252 body is redacted, also with characters Latin-1 lacks (€ is 0x80 there)")
    func windows1252() {
        let redactor = SecretRedactor(secrets: ["Pa\u{20AC}\u{20AC}word_Zx9"])
        let body: [UInt8] = Array("your key is Pa".utf8) + [0x80, 0x80] + Array("word_Zx9.".utf8)
        #expect(redactor.redact(body: body) == Array("your key is [redacted].".utf8))
    }

    @Test("escaped literals a strict parser refuses are decoded too: NDJSON, duplicate keys, a byte-order mark, JSON inside a string or an error text", arguments: [
        #"{"t":"\u0061bc-KEY"}"# + "\n{}", #"{"a":1,"a":"\u0061bc-KEY"}"#, "\u{FEFF}" + #"{"t":"\u0061bc-KEY"}"#,
        #"{"inner": "{\"t\":\"\\u0061bc-KEY\"}"}"#, #"data: {"t":"abc\u002DKEY"}"#,
    ])
    func lenientLiterals(text: String) {
        let redacted = SecretRedactor(secrets: ["abc-KEY"]).redact(text)
        #expect(!redacted.contains("u0061bc") && !redacted.contains("u002DKEY") && redacted.contains("[redacted]"), "\(redacted)")
    }

    @Test("Latin-1 and UTF-16 forms never match inside UTF-8 text, so other characters are not cut")
    func foreignFormsStayForeign() {
        #expect(SecretRedactor(secrets: ["pass\u{E4}"]).redact("pass\u{4E2D} ok") == "pass\u{4E2D} ok")
        #expect(SecretRedactor(secrets: ["\u{E9}"]).redact("\u{964D}") == "\u{964D}")
        #expect(SecretRedactor(secrets: ["\u{4141}"]).redact("AA") == "AA")
        let latin1: [UInt8] = Array("x pass".utf8) + [0xE4, 0xFF]
        #expect(SecretRedactor(secrets: ["pass\u{E4}"]).redact(body: latin1) == Array("x [redacted]".utf8) + [0xFF])
    }

    @Test("a Latin-1 secret next to an escaped one: each is redacted, none is lost to a decoding")
    func mixedEncodings() {
        let redactor = SecretRedactor(secrets: ["p\u{E4}ssw\u{F6}rd", "tok"])
        let body: [UInt8] = Array(#"{"a":"p"#.utf8) + [0xE4] + Array("ssw".utf8) + [0xF6] + Array(#"rd","b":"\u0074ok"}"#.utf8)
        let redacted = redactor.redact(body: body)
        #expect(redacted == Array(#"{"a":"[redacted]","b":"[redacted]"}"#.utf8), "\(String(decoding: redacted, as: UTF8.self))")
    }

    @Test("two secrets that share bytes are redacted as one stretch; a short secret never matches inside the placeholder")
    func overlaps() {
        #expect(SecretRedactor(secrets: ["abcd", "cdef"]).redact("x abcdef y") == "x [redacted] y")
        #expect(SecretRedactor(secrets: ["act"]).redact("act act") == "[redacted] [redacted]")
    }

    @Test("the longest form wins among secrets that start alike, a one-character secret included, at the end of a body too")
    func sharedStarts() {
        let redactor = SecretRedactor(secrets: ["k", "kv", "kvx1", "kvx12"])
        #expect(redactor.redact("a kvx12 b") == "a [redacted] b")
        #expect(redactor.redact("kvx1") == "[redacted]")
        #expect(redactor.redact("okay, kv") == "o[redacted]ay, [redacted]")
        #expect(redactor.redact(body: Array("kkkk".utf8)) == Array(String(repeating: "[redacted]", count: 4).utf8))
        #expect(redactor.redact(body: Array("xyz k".utf8)) == Array("xyz [redacted]".utf8))
    }

    @Test("a JSON body that is not UTF-8 is still checked as decoded; a secret spanning JSON syntax does not hide another")
    func jsonEdges() throws {
        let redactor = SecretRedactor(secrets: ["tok-SECRET", "w\""])
        let invalid = Array(#"{"t":"tok-\u0053ECRET","x":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        // Left as it was, the escaped form would decode to the secret when the step reads the body.
        let fromInvalid = String(decoding: redactor.redact(body: invalid), as: UTF8.self)
        #expect(!fromInvalid.contains("u0053ECRET") && fromInvalid.contains("[redacted]"), "\(fromInvalid)")
        let spanning = Array(#"{"a":"xw","b":"tok-\u0053ECRET"}"#.utf8)
        let fromSpanning = String(decoding: redactor.redact(body: spanning), as: UTF8.self)
        #expect(!fromSpanning.contains("u0053ECRET") && !fromSpanning.contains("tok-SECRET"), "\(fromSpanning)")
    }

    @Test("a short secret never breaks a JSON body: a literal or number that holds it becomes the placeholder string, keys and strings are redacted within")
    func shortSecretsKeepJSONWhole() throws {
        let cases: [(secret: String, body: String, expected: Value)] = [
            ("true", #"{"ok": true, "all": [true, false], "note": "true story"}"#, ["ok": "[redacted]", "all": ["[redacted]", false], "note": "[redacted] story"]),
            ("12", #"[120, 3.5, {"id": "a12"}]"#, ["[redacted]", 3.5, ["id": "a[redacted]"]]),
            ("ok", #"{"ok": 1, "looks": null}"#, ["[redacted]": 1, "lo[redacted]s": .null]),
            ("a", #"{"name": "x", "count": 2}"#, ["n[redacted]me": "x", "count": 2]),
        ]
        for (secret, body, expected) in cases {
            let response = IncomingResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
            let redacted = String(decoding: SecretRedactor(secrets: [secret]).redact(response).body, as: UTF8.self)
            #expect(try Value(json: redacted) == expected, "\(secret) in \(body) → \(redacted)")
        }
        let text = SecretRedactor(secrets: ["true"]).redact(IncomingResponse(status: 200, headers: [], body: Array("it is true".utf8)))
        #expect(text.body == Array("it is [redacted]".utf8), "text stays text")
    }

    @Test("a response body that is not UTF-8 is redacted byte by byte; a JSON body once more after decoding")
    func responseBodies() throws {
        let redactor = SecretRedactor(secrets: ["tok-SECRET"])
        let latin1 = IncomingResponse(status: 401, headers: [], body: [0x43, 0x6C, 0xE9, 0x20] + Array("tok-SECRET!".utf8) + [0xFF])
        #expect(redactor.redact(latin1).body == [0x43, 0x6C, 0xE9, 0x20] + Array("[redacted]!".utf8) + [0xFF])
        let spelled = IncomingResponse(status: 200, headers: [], body: Array(#"{"a": "tok-\u0053ECRET", "tok-\u0053ECRET": [1]}"#.utf8))
        let decoded = try Value(json: String(decoding: redactor.redact(spelled).body, as: UTF8.self))
        #expect(decoded == ["a": "[redacted]", "[redacted]": [1]])
        let untouched = IncomingResponse(status: 200, headers: [], body: Array(#"{"a":   "b"}"#.utf8))
        #expect(redactor.redact(untouched).body == untouched.body, "a body without secrets keeps its bytes")
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
