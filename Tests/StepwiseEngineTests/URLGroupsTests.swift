import NIOHTTP1
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's URL groups (`/v2/topics`, a publish to a group's name) over real loopback HTTP, on
/// each store.
@Suite("QStash URL groups")
struct URLGroupsTests {
    @Test("a message to a URL group goes to each endpoint, answered with one message per endpoint; endpoints come and go", arguments: StoreKind.testable)
    func fanOut(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            try await RunningServer.with([], store: kind) { stepwise in
                let first = target.url("/first"), second = target.url("/second")
                let added = try await send(
                    .POST, stepwise.url("/v2/topics/team/endpoints"), body: #"{"endpoints": [{"url": "\#(first)", "name": "one"}, {"url": "\#(second)"}]}"#)
                #expect(added.status == 200, "\(added.body)")
                let group = try #require(try await send(.GET, stepwise.url("/v2/topics/team")).json)
                #expect(group["name"] == "team")
                #expect(group["endpoints"] == [["url": .string(first), "name": "one"], ["url": .string(second)]])
                #expect((group["createdAt"]?.int ?? 0) > 1_700_000_000_000, "unix ms")

                let published = try await send(.POST, stepwise.url("/v2/publish/team"), body: #"{"n": 1}"#, headers: [("Upstash-Deduplication-Id", "d1")])
                #expect(published.status == 200, "\(published.body)")
                let answers = published.json?.list ?? []
                #expect(answers.map { $0["url"] } == [.string(first), .string(second)])
                #expect(Set(answers.compactMap { $0["messageId"]?.string }).count == 2, "one message per endpoint")
                _ = try await eventually("both endpoints reached") {
                    target.requests(to: "/first").count == 1 && target.requests(to: "/second").count == 1 ? true : nil
                }
                #expect(target.requests(to: "/first").first?.header("Upstash-Topic-Name") == "team", "QStash names the group it delivers for")
                #expect(target.requests(to: "/second").first?.header("Upstash-Topic-Name") == "team")
                let created = try await send(.GET, stepwise.url("/v2/events?topicName=team&state=CREATED")).json?["events"]?.list ?? []
                #expect(created.compactMap { $0["endpointName"]?.string } == ["one"], "the named endpoint's copy names it, the other has none")
                let again = try await send(.POST, stepwise.url("/v2/publish/team"), body: #"{"n": 1}"#, headers: [("Upstash-Deduplication-Id", "d1")])
                #expect(again.json?.list?.map { $0["deduplicated"] } == [true, true], "the same id again: each copy deduplicated against its own")
                #expect(again.status == 202, "every copy deduplicated")

                let batch: Value = [["destination": "team", "body": "2"], ["destination": .string(first), "body": "3"]]
                let batched = try #require(try await send(.POST, stepwise.url("/v2/batch"), body: batch.jsonText()).json?.list)
                #expect(batched.count == 2)
                #expect(batched.first?.list?.count == 2, "the group's item answers with a list")
                #expect(batched.last?["messageId"]?.string?.hasPrefix("msg_") == true)
                _ = try await eventually("the batch delivered") { target.requests(to: "/first").count == 3 ? true : nil }
                let enqueued = try await send(.POST, stepwise.url("/v2/enqueue/jobs/team"), body: "4")
                #expect(enqueued.json?.list?.count == 2, "an enqueue to the group: one message per endpoint, \(enqueued.body)")
                _ = try await eventually("the enqueued copies delivered") {
                    target.requests(to: "/first").count == 4 && target.requests(to: "/second").count == 3 ? true : nil
                }
                let misplaced: Value = [["destination": "team", "body": "5"], ["destination": .string(first), "headers": ["Upstash-Workflow-Init": "false"]]]
                let refusedBatch = try await send(.POST, stepwise.url("/v2/batch"), body: misplaced.jsonText())
                #expect(refusedBatch.status == 400)
                #expect(refusedBatch.error?.hasPrefix("batch item 1:") == true, "the request's item, not its place after the group's copies: \(refusedBatch.body)")

                let removed = try await send(.DELETE, stepwise.url("/v2/topics/team/endpoints"), body: #"{"endpoints": [{"name": "one"}]}"#)
                #expect(removed.status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/topics")).json?.list?.first?["endpoints"] == [["url": .string(second)]])
                #expect(try await send(.DELETE, stepwise.url("/v2/topics/team")).status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/topics/team")).status == 404)
                let gone = try await send(.POST, stepwise.url("/v2/publish/team"), body: "{}")
                #expect(gone.status == 404)
                #expect(gone.error?.contains("no URL group named 'team'") == true)
            }
        }
    }

    @Test("bad URL group requests are refused naming what is wrong, and nothing is stored")
    func refusals() async throws {
        try await RunningServer.with([]) { stepwise in
            let bodies: [(path: String, body: String, expected: String)] = [
                ("/v2/topics/g/endpoints", #"{"endpoints": [{"url": "ftp://127.0.0.1/x"}]}"#, "ftp"),
                ("/v2/topics/g/endpoints", #"{"endpoints": []}"#, "non-empty list"),
                ("/v2/topics/g/endpoints", #"{"endpoints": [{"name": "no-url"}]}"#, "needs a 'url'"),
                ("/v2/topics/g/endpoints", #"{"endpoints": [{"url": 7}]}"#, "endpoint 0"),
                ("/v2/topics/a%20b/endpoints", #"{"endpoints": [{"url": "http://127.0.0.1:9/x"}]}"#, "not a URL group name"),
            ]
            for (path, body, expected) in bodies {
                let answer = try await send(.POST, stepwise.url(path), body: body)
                #expect(answer.status == 400, "\(path) \(body): \(answer.body)")
                #expect(answer.error?.contains(expected) == true, "\(path) \(body): \(answer.body)")
            }
            #expect(try await stepwise.store.urlGroups().isEmpty, "nothing stored")

            #expect(try await send(.POST, stepwise.url("/v2/publish/nobody"), body: "{}").status == 404)
            #expect(try await send(.DELETE, stepwise.url("/v2/topics/nobody/endpoints"), body: #"{"endpoints": [{"name": "x"}]}"#).status == 404)
            #expect(try await send(.DELETE, stepwise.url("/v2/topics/nobody")).status == 404)

            #expect(try await send(.POST, stepwise.url("/v2/topics/g/endpoints"), body: #"{"endpoints": [{"url": "http://127.0.0.1:9/x"}]}"#).status == 200)
            let workflow = try await send(.POST, stepwise.url("/v2/publish/g"), body: "{}", headers: [("Upstash-Workflow-Init", "true")])
            #expect(workflow.status == 400)
            #expect(workflow.error?.contains("'g' is not an http(s) URL") == true)
            let unnamed = try await send(.DELETE, stepwise.url("/v2/topics/g/endpoints"), body: #"{"endpoints": [{}]}"#)
            #expect(unnamed.status == 400)
            #expect(try await send(.DELETE, stepwise.url("/v2/topics/g/endpoints"), body: #"{"endpoints": [{"url": "http://127.0.0.1:9/x"}]}"#).status == 200)
            #expect(try await send(.GET, stepwise.url("/v2/topics/g")).status == 404, "a group goes with its last endpoint")
            #expect(try await stepwise.store.urlGroups().isEmpty)
        }
    }
}
