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
}
