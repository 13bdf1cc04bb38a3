import StepwiseExpressions
import StepwiseRuntime
import Testing

/// How an `http` step's response becomes its result: the body is JSON when the step says so or
/// when the response's `Content-Type` names JSON, in any case.
@Suite("Response classification")
struct ResponseClassificationTests {
    private func body(contentType: String?, format: String? = nil, _ text: String = #"{"ok": true}"#) -> Value? {
        let headers = contentType.map { [(name: "Content-Type", value: $0)] } ?? []
        return ResponseClassification.result(of: IncomingResponse(status: 200, headers: headers, body: Array(text.utf8)), format: format)["body"]
    }

    @Test("a Content-Type naming JSON in any case parses the body; others keep it as text")
    func contentTypes() {
        let parsed: Value = ["ok": true]
        for type in ["application/json", "application/problem+JSON; charset=utf-8", "APPLICATION/JSON", "text/json"] {
            #expect(body(contentType: type) == parsed, "\(type)")
        }
        for type in ["text/plain", "application/jso", "application/js-on", "application/octet-stream"] {
            #expect(body(contentType: type) == .string(#"{"ok": true}"#), "\(type)")
        }
        #expect(body(contentType: nil) == .string(#"{"ok": true}"#))
        #expect(body(contentType: "application/json", "not json") == .string("not json"), "JSON that does not parse stays text")
        #expect(body(contentType: "text/plain", format: "json") == parsed, "format overrides the Content-Type")
        #expect(body(contentType: "application/json", format: "text") == .string(#"{"ok": true}"#))
    }

    @Test("headers are found by name in any ASCII case")
    func headerNames() {
        let response = IncomingResponse(status: 200, headers: [("X-Request-Id", "a"), ("content-type", "text/plain")], body: [])
        #expect(response.header("x-request-ID") == "a")
        #expect(response.header("Content-Type") == "text/plain")
        #expect(response.header("X-Request-I") == nil)
        #expect(response.header("X-Request-Idx") == nil)
        #expect("Straße".equalsIgnoringASCIICase("STRAßE"))
        #expect(!"é".equalsIgnoringASCIICase("É"), "only ASCII letters fold, as in HTTP's token names")
    }

    @Test("response: json fails the step on a body that is not JSON (ResponseNotJSON), whatever the Content-Type; without it, such a body stays text")
    func explicitJSON() {
        func outcome(_ text: String, format: String?, status: Int = 200) -> Result<Value, StepError> {
            ResponseClassification.outcome(
                of: IncomingResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8)), expected: nil,
                format: format, failsOnServerErrors: true, step: "fetch")
        }
        guard case .failure(let error) = outcome(#"{"a": 1,"#, format: "json") else {
            Issue.record("a truncated body passed as JSON")
            return
        }
        #expect(error.type == "ResponseNotJSON")
        #expect(error.step == "fetch" && error.status == 200)
        #expect(error.message.hasPrefix("HTTP 200: the body is not JSON, as `response: json` requires"), "\(error.message)")
        #expect((try? outcome(#"{"a": 1,"#, format: nil).get())?["body"] == .string(#"{"a": 1,"#))
        #expect((try? outcome(#""text""#, format: "json").get())?["body"] == .string("text"), "a JSON string is JSON")
        guard case .failure(let status) = outcome("<html>", format: "json", status: 503) else { return }
        #expect(status.type == "HTTPError", "the status is judged first")
    }

    @Test("a text body is decoded in the charset its Content-Type names: Latin-1 and Windows-1252, else UTF-8")
    func charsets() {
        func text(_ bytes: [UInt8], _ contentType: String) -> Value? {
            ResponseClassification.result(of: IncomingResponse(status: 200, headers: [("Content-Type", contentType)], body: bytes), format: nil)["body"]
        }
        #expect(text([0x63, 0x61, 0x66, 0xE9], "text/plain; charset=ISO-8859-1") == "caf\u{E9}")
        #expect(text([0x63, 0x61, 0x66, 0xE9], #"text/plain;charset="latin1""#) == "caf\u{E9}")
        #expect(text([0x80], "text/plain; charset=windows-1252") == "\u{20AC}")
        #expect(text(Array("caf\u{E9}".utf8), "text/plain; charset=utf-8") == "caf\u{E9}")
        #expect(text([0x63, 0xE9], "text/plain") == "c\u{FFFD}", "without a charset, UTF-8")
    }
}
