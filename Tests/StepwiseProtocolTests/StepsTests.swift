import StepwiseExpressions
import StepwiseRuntime
import Testing

@testable import StepwiseProtocol

@Suite struct StepsTests {
    /// Step 1 of the "path endpoint" transcript (workflow-js `src/serve/serve.test.ts`).
    static let pathStep1 = #"{"stepId":1,"stepName":"step1","stepType":"Run","out":"\"processed 'initial-payload'\"","concurrent":1}"#

    @Test func decodesTheDeliveryBodyTheSDKTestsBuild() throws {
        // getRequestBody("initial-payload", [step1]) in workflow-js src/test-utils.ts.
        let body = #"[{"messageId":"msgId","body":"aW5pdGlhbC1wYXlsb2Fk","callType":"step"},"#
            + #"{"messageId":"msgId","body":"eyJzdGVwSWQiOjEsInN0ZXBOYW1lIjoic3RlcDEiLCJzdGVwVHlwZSI6IlJ1biIsIm91dCI6IlwicHJvY2Vzc2VkICdpbml0aWFsLXBheWxvYWQnXCIiLCJjb25jdXJyZW50IjoxfQ==","callType":"step"}]"#
        let array = try RawStepArray(jsonBytes: Array(body.utf8))
        #expect(array.initialPayload == Array("initial-payload".utf8))
        let steps = try array.stepEntries()
        #expect(steps.count == 1)
        #expect(steps[0].bytes == Array(Self.pathStep1.utf8))
        #expect(steps[0].stepName == "step1" && steps[0].stepId == 1 && steps[0].concurrent == 1)
        #expect(try steps[0].output() == .value("processed 'initial-payload'"))
        #expect(array.jsonBytes == Array(body.utf8))
    }

    @Test func keepsPythonStepJSONByteExactWithUnknownMembers() throws {
        let python = #"{"stepId": 2, "stepName": "wait", "stepType": "SleepFor", "concurrent": 1, "targetStep": null, "out": "null", "sleepFor": "10s", "sleepUntil": null, "method": "POST"}"#
        let step = try StepJSON(bytes: Array(python.utf8))
        #expect(step.bytes == Array(python.utf8))
        #expect(step.sleepFor == .string("10s") && step.targetStep == nil && step.out == "null")
        #expect(step.object[.string("method")] == .string("POST"))
        let entry = RawStep(messageId: "msg_1", body: step.bytes)
        #expect(try RawStep(json: entry.json) == entry)
    }

    @Test func readsPlanStepsAndCallTypes() throws {
        let plan = try StepJSON(bytes: Array(#"{"stepId":0,"stepName":"successStep1","stepType":"Run","concurrent":2,"targetStep":4}"#.utf8))
        #expect(plan.isPlan && plan.targetStep == 4)
        let body = #"[{"messageId":"a","body":"e30=","callType":"step"},{"messageId":"b","body":"cXVlcnk=","callType":"toCallback"}]"#
        let array = try RawStepArray(jsonBytes: Array(body.utf8))
        #expect(array.steps[1].callType == .toCallback)
        #expect(try array.stepEntries().isEmpty)
    }

    @Test func rejectsMalformedEntriesWithTheirPosition() {
        #expect(throws: ProtocolError("raw step 1: unknown call type 'later' (expected step, toCallback, fromCallback or failureCall)")) {
            try RawStepArray(jsonBytes: Array(#"[{"messageId":"a","body":""},{"messageId":"b","body":"","callType":"later"}]"#.utf8))
        }
        #expect(throws: ProtocolError("the raw step array must be a JSON array")) { try RawStepArray(jsonBytes: Array("{}".utf8)) }
        #expect(throws: ProtocolError("'stepName' is missing")) { try StepJSON(bytes: Array(#"{"stepId":1,"stepType":"Run"}"#.utf8)) }
        #expect(throws: ProtocolError.self) { try StepJSON(bytes: [0xFF]) }
    }

    @Test func encodesTheCallOutputOfTheCallResultTranscript() throws {
        // workflow-requests.test.ts "should POST third party call results in is-call-return case".
        let out = StepOutput.callResponse(CallResponse(status: 200, body: "third-party-call-result"))
        #expect(out.outText == #"{"status":200,"body":"third-party-call-result"}"#)
        #expect(try StepOutput(out: out.outText, stepType: "Call") == out)
        let withHeaders = CallResponse(status: 201, body: "ok", header: [("Content-Type", ["application/json"])])
        #expect(withHeaders.json.jsonText() == #"{"status":201,"body":"ok","header":{"Content-Type":["application/json"]}}"#)
    }

    @Test func resolvesAWaitStepAsTheServerMust() throws {
        // The `step` of a wait request (serve.test.ts "should send waitForEvent"), then a notify.
        let requested = try StepJSON(object: ValueMap([
            ("stepId", 3), ("stepName", "wait-step"), ("stepType", "Wait"), ("concurrent", 1),
        ]))
        let notified = try requested.waitResolved(eventId: "my-event", timeout: "7d", eventBody: Array(#"{"a":1}"#.utf8))
        #expect(String(decoding: notified.bytes, as: UTF8.self)
            == #"{"stepId":3,"stepName":"wait-step","stepType":"Wait","concurrent":1,"waitEventId":"my-event","timeout":"7d","waitTimeout":false,"out":"eyJhIjoxfQ=="}"#)
        #expect(try notified.output() == .event(Array(#"{"a":1}"#.utf8)))
        let timedOut = try requested.waitResolved(eventId: "my-event", timeout: "7d", eventBody: nil)
        #expect(timedOut.out == nil && timedOut.waitTimeout == true)
    }

    @Test func encodesInvokeResults() throws {
        let result = InvokeResult(body: "done", isFailed: false, isCanceled: true)
        #expect(result.json.jsonText() == #"{"body":"done","isFailed":false,"isCanceled":true}"#)
        #expect(try StepOutput(out: StepOutput.invokeResult(result).outText, stepType: "Invoke") == .invokeResult(result))
    }

    @Test("an invoked child's end as QStash sends it: both flags always, a body only after a success (workflow-js examples/ci invoke)")
    func invokeResultsOfEachEnd() throws {
        #expect(InvokeResult(ended: .succeeded, output: "40", error: nil).json.jsonText() == #"{"body":"40","isFailed":false,"isCanceled":false}"#)
        let failed = InvokeResult(ended: .failed, output: nil, error: #"{"message":"boom"}"#)
        #expect(failed.json.jsonText() == #"{"isFailed":true,"isCanceled":false,"error":"{\"message\":\"boom\"}"}"#)
        #expect(try InvokeResult(json: failed.json) == failed)
        #expect(InvokeResult(ended: .canceled, output: nil, error: nil).json.jsonText() == #"{"isFailed":false,"isCanceled":true}"#)
    }

    @Test("headers grouped as Go's http.Header holds them: canonical names, values of one name together in order")
    func canonicalHeaderGroups() {
        let fields = HeaderFields([("x-reply", "a"), ("Content-TYPE", "text/plain"), ("X-REPLY", "b"), ("upstash-workflow-runid", "r"), ("x_odd-NAME", "c")])
        let grouped = fields.canonicallyGrouped
        #expect(grouped.map(\.name) == ["X-Reply", "Content-Type", "Upstash-Workflow-Runid", "X_odd-Name"])
        #expect(grouped.map(\.values) == [["a", "b"], ["text/plain"], ["r"], ["c"]])
    }

    @Test func convertsToAndFromJournalEntries() throws {
        let step = try StepJSON(bytes: Array(Self.pathStep1.utf8))
        let entry = try step.journalEntry()
        #expect(entry.stepType == .run && entry.out == .string("processed 'initial-payload'"))
        #expect(try StepJSON(entry: entry).stepName == "step1")
    }

    @Test func anEncodedArrayGrowsToTheSameBytesAndTellsWhatABodyAddsToIt() throws {
        let steps = (0..<4).map { RawStep(messageId: "msg_\($0)", body: Array("{\"n\":\($0)}".utf8), callType: $0 == 2 ? .toCallback : .step) }
        var encoded = EncodedRawSteps()
        #expect(encoded.body() == Array("[]".utf8))
        for step in steps.prefix(2) { encoded.append(step) }
        #expect(encoded.body() == RawStepArray(Array(steps.prefix(2))).jsonBytes)
        #expect(encoded.body(count: 1) == RawStepArray([steps[0]]).jsonBytes)

        #expect(encoded.continuation(in: RawStepArray(Array(steps.prefix(2))).jsonBytes) == .equals)
        guard case .extends(let rest)? = encoded.continuation(in: RawStepArray(steps).jsonBytes) else {
            Issue.record("a longer log extends the known one")
            return
        }
        #expect(try RawStepArray(jsonBytes: rest).steps == Array(steps.suffix(2)))
        for step in steps.suffix(2) { encoded.append(step) }
        #expect(encoded.body() == RawStepArray(steps).jsonBytes)
        #expect(encoded.continuation(in: RawStepArray(Array(steps.prefix(3))).jsonBytes) == nil, "a shorter prefix")
        let other = RawStep(messageId: "msg_x", body: Array("{}".utf8))
        #expect(encoded.continuation(in: RawStepArray([other] + steps).jsonBytes) == nil, "another log")

        // A body received from another orchestrator is compared as received, white space and all.
        let received = Array("[ {\"a\":1} , {\"b\":2} ]\n".utf8)
        let known = try #require(EncodedRawSteps.openPrefix(of: received))
        #expect(known == Array("[ {\"a\":1} , {\"b\":2} ".utf8))
        #expect(EncodedRawSteps.continuation(of: Array("[ {\"a\":1}".utf8), in: Array("[ {\"a\":1},{\"c\":3}]".utf8)) == .extends(Array("[{\"c\":3}]".utf8)))
        #expect(EncodedRawSteps.openPrefix(of: Array("[]".utf8)) == nil, "an empty array is nothing to continue")
    }
}
