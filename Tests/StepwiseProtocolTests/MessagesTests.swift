import StepwiseExpressions
import Testing

@testable import StepwiseProtocol

@Suite struct MessagesTests {
    /// The batch item of workflow-js `src/client/index.test.ts` "should trigger workflow run with
    /// failure callback" (telemetry values filled in).
    static let triggerBatch = #"""
        [{"destination":"https://requestcatcher.com/api","headers":{
        "upstash-forward-upstash-workflow-sdk-version":"1","upstash-forward-user-header":"user-header-value",
        "upstash-method":"POST","upstash-retries":"15","upstash-retry-delay":"1000","upstash-workflow-init":"true",
        "upstash-workflow-runid":"wfr_mock-1","upstash-workflow-url":"https://requestcatcher.com/api","upstash-delay":"1s",
        "upstash-failure-callback":"https://requestcatcher.com/some-failure-callback","content-type":"application/json",
        "upstash-feature-set":"LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig",
        "upstash-failure-callback-feature-set":"LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig",
        "upstash-failure-callback-forward-upstash-workflow-failure-callback":"true",
        "upstash-failure-callback-forward-upstash-workflow-is-failure":"true",
        "upstash-failure-callback-forward-user-header":"user-header-value","upstash-failure-callback-retries":"15",
        "upstash-failure-callback-retry-delay":"1000","upstash-failure-callback-workflow-calltype":"failureCall",
        "upstash-failure-callback-workflow-init":"false","upstash-failure-callback-workflow-runid":"wfr_mock-1",
        "upstash-failure-callback-workflow-url":"https://requestcatcher.com/api","upstash-telemetry-framework":"unknown",
        "upstash-telemetry-runtime":"bun@1.2","upstash-telemetry-sdk":"@upstash/workflow@v1.0.0","upstash-workflow-sdk-version":"1",
        "upstash-flow-control-key":"failure-flow-key","upstash-flow-control-value":"parallelism=2, rate=5, period=1m",
        "upstash-failure-callback-flow-control-key":"failure-flow-key",
        "upstash-failure-callback-flow-control-value":"parallelism=2, rate=5, period=1m"},"body":"request-body"}]
        """#

    @Test func parsesTheJSTriggerBatch() throws {
        let messages = try PublishedMessage.batch(jsonBytes: Array(Self.triggerBatch.utf8))
        #expect(messages.count == 1)
        let trigger = messages[0]
        #expect(trigger.destination == "https://requestcatcher.com/api" && trigger.body == Array("request-body".utf8))
        #expect(trigger.contentType == "application/json")
        let options = trigger.options
        #expect(options.method == "POST" && options.retries == 15 && options.delay == .seconds(1))
        #expect(options.retryDelay?.delay(retried: 0) == WireDuration(milliseconds: 1_000))
        #expect(options.flowControl == FlowControl(key: "failure-flow-key", parallelism: 2, rate: 5, period: .seconds(60)))
        #expect(options.flowControl?.value == "parallelism=2, rate=5, period=1m")
        #expect(options.workflow.isInit == true && options.workflow.runId == "wfr_mock-1")
        #expect(options.workflow.url == "https://requestcatcher.com/api" && options.workflow.sdkVersion == "1")
        #expect(options.workflow.has(feature: "WF_TriggerOnConfig"))
        #expect(options.forwardedHeaders.map(\.name) == ["upstash-workflow-sdk-version", "user-header"])
        let failure = try #require(trigger.failureCallback)
        #expect(failure.url == "https://requestcatcher.com/some-failure-callback")
        #expect(failure.options.retries == 15 && failure.options.workflow.callType == .failureCall)
        #expect(failure.options.workflow.isInit == false && failure.options.workflow.runId == "wfr_mock-1")
        #expect(failure.options.forwardedHeaders.map(\.name)
            == ["upstash-workflow-failure-callback", "upstash-workflow-is-failure", "user-header"])
        #expect(trigger.callback == nil && trigger.callbackFailureCallback == nil)
    }

    @Test func parsesTheCallHeadersOfContextCall() throws {
        // context.test.ts "should send correct headers for context.call".
        let headers = HeaderFields([
            ("upstash-workflow-sdk-version", "1"), ("content-type", "application/x-www-form-urlencoded"),
            ("upstash-forward-content-type", "application/x-www-form-urlencoded"), ("upstash-callback", "https://requestcatcher.com/api"),
            ("upstash-callback-feature-set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"),
            ("upstash-callback-forward-upstash-workflow-callback", "true"), ("upstash-callback-forward-upstash-workflow-stepid", "1"),
            ("upstash-callback-workflow-calltype", "fromCallback"), ("upstash-callback-workflow-init", "false"),
            ("upstash-callback-workflow-runid", "wfr-id"), ("upstash-callback-workflow-url", "https://requestcatcher.com/api"),
            ("upstash-feature-set", "WF_NoDelete,InitialBody"), ("upstash-forward-my-header", "my-value"), ("upstash-method", "PATCH"),
            ("upstash-retries", "10"), ("upstash-retry-delay", "1000"), ("upstash-workflow-calltype", "toCallback"),
            ("upstash-workflow-init", "false"), ("upstash-workflow-runid", "wfr-id"), ("upstash-timeout", "30"),
        ])
        let call = try PublishedMessage(destination: "https://some-website.com", headers: headers, body: Array("request-body".utf8))
        #expect(call.options.method == "PATCH" && call.options.timeout == .seconds(30) && call.options.retries == 10)
        #expect(call.options.workflow.callType == .toCallback && call.options.workflow.has(feature: "WF_NoDelete"))
        let callback = try #require(call.callback)
        #expect(callback.options.workflow.callType == .fromCallback && callback.options.workflow.runId == "wfr-id")
        #expect(callback.options.forwardedHeaders.map(\.name) == ["upstash-workflow-callback", "upstash-workflow-stepid"])
    }

    @Test func readsHeaderNamesCaseInsensitivelyIncludingPythonsRunid() throws {
        let headers = HeaderFields([
            ("Upstash-Workflow-Runid", "wfr_py"), ("UPSTASH-WORKFLOW-INIT", "FALSE"),
            ("Upstash-Callback-Failure-Callback", "https://x.test/fail"), ("Upstash-Callback-Failure-Callback-Retries", "2"),
            ("Upstash-Callback-Failure-Callback-Workflow-Calltype", "failureCall"), ("Upstash-Not-Before", "1700000000"),
        ])
        let message = try PublishedMessage(destination: "http://x.test", headers: headers, body: nil)
        #expect(message.options.workflow.runId == "wfr_py" && message.options.workflow.isInit == false)
        #expect(message.options.notBefore == 1_700_000_000)
        #expect(message.callbackFailureCallback?.options.retries == 2)
        #expect(message.callbackFailureCallback?.options.workflow.callType == .failureCall)
    }

    /// The headers of a `context.call` as the Python SDK 2.0.0 publishes it with a failure
    /// function (`workflow_requests.py`): the callback's failure callback has its options, never
    /// its URL header, and goes to the workflow URL they name; other targets need their URL.
    @Test func aCallsCallbackFailureCallbackWithoutItsURLGoesToTheWorkflowURL() throws {
        let headers = HeaderFields([
            ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", "wfr_py"), ("Upstash-Workflow-Url", "http://app.test/wf"),
            ("Upstash-Retries", "0"), ("Upstash-Callback", "http://app.test/wf"), ("Upstash-Callback-Retries", "1"),
            ("Upstash-Callback-Failure-Callback-Forward-Upstash-Workflow-Is-Failure", "true"),
            ("Upstash-Callback-Failure-Callback-Forward-Upstash-Workflow-Failure-Callback", "true"),
            ("Upstash-Callback-Failure-Callback-Workflow-Runid", "wfr_py"), ("Upstash-Callback-Failure-Callback-Workflow-Init", "false"),
            ("Upstash-Callback-Failure-Callback-Workflow-Url", "http://app.test/wf"),
            ("Upstash-Callback-Failure-Callback-Workflow-Calltype", "failureCall"), ("Upstash-Callback-Failure-Callback-Retries", "1"),
            ("Upstash-Failure-Callback-Workflow-Url", "http://app.test/wf"), ("Upstash-Failure-Callback-Retries", "1"),
        ])
        let call = try PublishedMessage(destination: "http://third.test/api", headers: headers, body: nil)
        let failure = try #require(call.callbackFailureCallback)
        #expect(failure.url == "http://app.test/wf")
        #expect(failure.options.retries == 1 && failure.options.workflow.callType == .failureCall)
        #expect(failure.options.forwardedHeaders.map(\.name) == ["Upstash-Workflow-Is-Failure", "Upstash-Workflow-Failure-Callback"])
        #expect(call.failureCallback == nil, "the call's own failure callback needs its URL header")
        let unsafe = HeaderFields([("Upstash-Callback-Failure-Callback-Workflow-Url", "file:///etc/passwd")])
        #expect(throws: ProtocolError.self) { try PublishedMessage(destination: "http://third.test/api", headers: unsafe, body: nil) }
    }

    @Test func deduplicatesByIdOrByDestinationBodyContentTypeAndForwardedHeaders() throws {
        func key(_ headers: [(String, String)], to destination: String = "http://x.test/a", body: String = "hi") throws -> String? {
            let message = try PublishedMessage(destination: destination, headers: HeaderFields(headers), body: Array(body.utf8))
            return MessageDeduplication.key(of: message)
        }
        #expect(try key([]) == nil)
        #expect(try key([("Upstash-Content-Based-Deduplication", "false")]) == nil)
        #expect(try key([("Upstash-Deduplication-Id", "")]) == nil, "an empty id asks for nothing")
        let byId = try #require(try key([("Upstash-Deduplication-Id", "order-7")]))
        #expect(byId.hasPrefix("id:") && byId.count == 3 + 64, "an id of any length makes a key of one size")
        #expect(try key([("Upstash-Deduplication-Id", "order-7"), ("Upstash-Content-Based-Deduplication", "true")], body: "ho") == byId)
        #expect(try key([("Upstash-Deduplication-Id", "order-8")]) != byId)
        #expect(try key([("Upstash-Deduplication-Id", String(repeating: "x", count: 10_000))])?.count == byId.count)

        let content = [("Upstash-Content-Based-Deduplication", "True"), ("Content-Type", "text/plain"), ("Upstash-Forward-X-Tag", "a")]
        let same = try key(content)
        #expect(same?.hasPrefix("content:") == true)
        #expect(try key(content) == same)
        #expect(try key(content.map { $0.0 == "Upstash-Forward-X-Tag" ? ("upstash-forward-x-tag", $0.1) : $0 }) == same)
        #expect(try key(content, body: "ho") != same)
        #expect(try key(content, to: "http://x.test/b") != same)
        #expect(try key(content.map { $0.0 == "Content-Type" ? ($0.0, "application/json") : $0 }) != same)
        #expect(try key(content.map { $0.0 == "Upstash-Forward-X-Tag" ? ($0.0, "b") : $0 }) != same)
        let withEmptyHeader = try key(content + [("Upstash-Forward-X-Empty", "")], body: "")
        #expect(try key(content, body: "") != withEmptyHeader)
        // Fields are length-prefixed: moving a character from the destination to the body matters.
        #expect(try key(content, to: "http://x.test/ab", body: "c") != key(content, to: "http://x.test/a", body: "bc"))
        let reordered = [("Upstash-Forward-X-Other", "1")] + content
        #expect(try key(content + [("Upstash-Forward-X-Other", "1")]) == key(reordered), "forwarded headers count in name order")
        let twice = [("Upstash-Content-Based-Deduplication", "true"), ("Upstash-Forward-X-Tag", "a"), ("Upstash-Forward-X-Tag", "b")]
        #expect(try key(twice) != key([twice[0], twice[2], twice[1]]), "the values of one header name keep their order")
    }

    @Test func takesTheRawDestinationOfAPublish() throws {
        let message = try PublishedMessage(
            publishTarget: "/v2/publish/https://app.test//api/wf?x=1&y=2", headers: HeaderFields(), body: Array("hi".utf8))
        #expect(message.destination == "https://app.test//api/wf?x=1&y=2")
        #expect(throws: ProtocolError("'ftp://x' is not an http(s) URL")) {
            try PublishedMessage(publishTarget: "/v2/publish/ftp://x", headers: HeaderFields(), body: [])
        }
    }

    @Test("a destination's port, when written, is a number from 1 to 65535: others are refused at publish, before anything is sent")
    func destinationPorts() throws {
        for url in ["http://127.0.0.1:8080/x", "https://host.test:1", "http://h:65535", "http://[::1]:8080/v6", "http://user:pw@h:443/x", "http://h:/x", "http://[::1]/x"] {
            #expect(throws: Never.self, "\(url)") { try Destination.validate(url) }
        }
        for (url, port) in [
            ("http://127.0.0.1:99999/x", "99999"), ("http://localhost:65536", "65536"), ("http://h:0/x", "0"), ("http://h:80a/x", "80a"),
            ("http://[::1]:70000/x", "70000"), ("http://user:pw@h:123456789012345678901234/x", "123456789012345678901234"), ("http://h:-1", "-1"),
        ] {
            #expect(throws: ProtocolError("'\(url)' has port '\(port)'; a port is a number from 1 to 65535")) { try Destination.validate(url) }
        }
    }

    @Test("a batch item's headers must be ones HTTP can carry: a name that is a token, a value without line breaks or control characters")
    func batchHeadersHTTPCanCarry() throws {
        func item(_ name: String, _ value: String) -> [UInt8] {
            Array((#"[{"destination":"http://h.test/x","headers":"# + Value.map(ValueMap([(name, Value.string(value))])).jsonText() + "}]").utf8)
        }
        #expect(throws: Never.self) { try PublishedMessage.batch(jsonBytes: item("Upstash-Forward-X-Tab", "a\tb ünïcode")) }
        for (name, value, problem) in [
            ("Upstash-Forward-X-A", "a\r\nX-Injected: 1", "the value of header 'Upstash-Forward-X-A' holds a line break or a control character"),
            ("Upstash-Forward-X-Nul", "a\u{0}b", "the value of header 'Upstash-Forward-X-Nul' holds a line break or a control character"),
            ("Upstash-Forward-X A", "a", "'Upstash-Forward-X A' is not a header name: letters, digits and !#$%&'*+-.^_`|~ only"),
            ("", "a", "'' is not a header name: letters, digits and !#$%&'*+-.^_`|~ only"),
        ] {
            #expect(throws: ProtocolError("batch item 0: " + problem)) { try PublishedMessage.batch(jsonBytes: item(name, value)) }
        }
        for url in ["http://[::1/x", "http://%5B%5D/", "http://%5B/x", "http://[]/x", "http://:80/x", "http://h[1]/x"] {
            #expect(throws: ProtocolError("batch item 0: '\(url)' has no valid host")) {
                try PublishedMessage.batch(jsonBytes: Array(#"[{"destination":"\#(url)"}]"#.utf8))
            }
        }
        #expect(throws: Never.self) { try Destination.validate("http://[fe80::1%25eth0]:8080/x") }
    }

    @Test("QStash's host and path filters read a destination's authority without user or port, and its path up to a query", arguments: [
        ("http://127.0.0.1:9/a/b?x=1#f", "127.0.0.1", "/a/b"),
        ("https://User:pw@Example.COM:8443/Path%20x?q", "example.com", "/Path%20x"),
        ("http://[::1]:8080/v6", "[::1]", "/v6"),
        ("https://example.com", "example.com", "/"),
        ("https://example.com?only=query", "example.com", "/"),
        ("http://a@b@host.test/x", "host.test", "/x"),
        ("https://app.test//api//wf", "app.test", "//api//wf"),
        ("http://[ab]cd/x", "[ab]", "/x"),
        ("http://ÄBC.Example:80/p", "Äbc.example", "/p"),
        ("http://host/\u{301}p?q", "host", "/\u{301}p"),
        ("http://host?\u{301}/x", "host", "/"),
        ("http://u:p@[::1/x", "[", "/x"),
        ("http://[a@b:c]/x", "b", "/x"),
        ("http://[x@:1]/", "", "/"),
    ])
    func readsTheHostAndPathOfADestination(url: String, host: String, path: String) {
        #expect(Destination.lowercasedHost("ÄBC.Example") == "Äbc.example", "only ASCII letters: others' case is a database locale's")
        #expect(Destination.host(of: url) == host)
        #expect(Destination.path(of: url) == path)
    }

    @Test func locatesBadInputInBatches() {
        func error(_ json: String) -> String? {
            do {
                _ = try PublishedMessage.batch(jsonBytes: Array(json.utf8))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(error(#"{"destination":"https://x.test"}"#) == "the batch body must be a JSON array")
        #expect(error(#"[{"destination":"https://x.test"},{"headers":{}}]"#) == "batch item 1: 'destination' is missing")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Delay":"1x"}}]"#)
            == "batch item 0: header 'Upstash-Delay': '1x' is not a duration like 30s, 10m, 1d10h30m")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Retries":3}}]"#)
            == "batch item 0: header 'Upstash-Retries' must have a string value")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Retries":"-1"}}]"#)
            == "batch item 0: header 'Upstash-Retries': '-1' is not a non-negative integer")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Flow-Control-Key":"k","Upstash-Flow-Control-Value":"burst=3"}}]"#)
            == "batch item 0: header 'Upstash-Flow-Control-Value': unknown flow-control setting 'burst'; expected parallelism, rate or period")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Retry-Delay":"pow(2, retried"}}]"#)
            == "batch item 0: header 'Upstash-Retry-Delay': expected ')' at offset 14 of the retry delay expression")
        #expect(error(#"[{"destination":"mailto:a@b"}]"#) == "batch item 0: 'mailto:a@b' is not an http(s) URL")
        #expect(error(#"[{"destination":"https://x.test","headers":{"Upstash-Workflow-CallType":"other"}}]"#)?
            .hasPrefix("batch item 0: header 'Upstash-Workflow-CallType': unknown call type") == true)
    }

    @Test func readsDurations() throws {
        #expect(try WireDuration(parsing: "1d10h30m", bareSeconds: false).milliseconds == (86_400 + 36_000 + 1_800) * 1_000)
        #expect(try WireDuration(parsing: "30", bareSeconds: true) == .seconds(30))
        #expect(try WireDuration(parsing: "250ms", bareSeconds: false).milliseconds == 250)
        #expect(throws: ProtocolError.self) { try WireDuration(parsing: "30", bareSeconds: false) }
        #expect(throws: ProtocolError("'99999999999999999999d' is not a duration like 30s, 10m, 1d10h30m")) {
            try WireDuration(parsing: "99999999999999999999d", bareSeconds: false)
        }
        #expect(throws: ProtocolError("'9999999999999999d' is too large")) { try WireDuration(parsing: "9999999999999999d", bareSeconds: false) }
        #expect(WireDuration.seconds(90).description == "1m30s")
    }

    @Test func writesPublishAnswers() {
        let answers = [PublishAnswer(messageId: "msg_1", url: "https://x.test"), PublishAnswer(messageId: "msg_2", url: "https://y.test", deduplicated: true)]
        #expect(String(decoding: PublishAnswer.batchJSONBytes(answers), as: UTF8.self)
            == #"[{"messageId":"msg_1","url":"https://x.test"},{"messageId":"msg_2","url":"https://y.test","deduplicated":true}]"#)
    }
}
