import NIOHTTP1
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseTesting
import Testing

/// QStash's DLQ of plain messages (`/v2/dlq`) over real loopback HTTP, on each store: what gives
/// up is kept with its last answer, can be listed, filtered, paged, read, deleted and retried.
@Suite("QStash DLQ of plain messages")
struct MessageDeadLetterAPITests {
    @Test("a message that gives up is kept with its last answer; the DLQ lists, filters, pages and deletes", arguments: StoreKind.testable)
    func keptListedAndDeleted(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/fail", ScriptedResponse(status: 500, body: "boom", contentType: "text/plain", headers: [("X-Reason", "broken")]))
            try await RunningServer.with([], store: kind) { stepwise in
                func publish(_ path: String, to destination: String, _ body: String, _ headers: [(String, String)]) async throws -> String {
                    let answer = try await send(.POST, stepwise.url(path + destination), body: body, headers: [("Upstash-Retries", "0")] + headers)
                    return try #require(answer.json?["messageId"]?.string, "\(answer.body)")
                }
                let labeled = try await publish("/v2/publish/", to: target.url("/fail"), "one", [("Upstash-Label", "billing, eu"), ("Upstash-Forward-X-Team", "blue"), ("Upstash-Forward-Authorization", "Bearer sk-secret")])
                let queued = try await publish("/v2/enqueue/mail/", to: target.url("/fail"), "two", [])
                let unreachable = try await publish(
                    "/v2/publish/", to: "http://127.0.0.1:9/unreachable", "three", [("Upstash-Flow-Control-Key", "outbound"), ("Upstash-Flow-Control-Value", "parallelism=2")])
                _ = try await publish("/v2/publish/", to: target.url("/ok"), "delivered", [])
                let group = try await send(.POST, stepwise.url("/v2/topics/team/endpoints"), body: #"{"endpoints": [{"url": "\#(target.url("/fail"))"}]}"#)
                #expect(group.status == 200, "\(group.body)")
                let toGroup = try await send(.POST, stepwise.url("/v2/publish/team"), body: "four", headers: [("Upstash-Retries", "0")])
                let grouped = try #require(toGroup.json?.list?.first?["messageId"]?.string, "\(toGroup.body)")

                func list(_ query: String = "") async throws -> Value {
                    let answer = try await send(.GET, stepwise.url("/v2/dlq" + query))
                    #expect(answer.status == 200, "\(query): \(answer.body)")
                    return answer.json ?? .null
                }
                let all = try await eventually("four messages dead-lettered") {
                    let messages = try await list()["messages"]?.list ?? []
                    return messages.count == 4 ? messages : nil
                }
                #expect(Set(all.compactMap { $0["messageId"]?.string }) == [labeled, queued, unreachable, grouped], "the delivered one is not there")
                let entry = try #require(all.first { $0["messageId"]?.string == labeled })
                #expect(entry["dlqId"]?.string == "dlq_" + labeled)
                #expect(entry["url"]?.string == target.url("/fail"))
                #expect(entry["body"] == "one")
                #expect(entry["header"]?["X-Team"] == ["blue"])
                #expect(entry["header"]?["Authorization"] == ["[redacted]"], "a credential for the destination is never shown")
                #expect(target.requests(to: "/fail").contains { $0.header("Authorization") == "Bearer sk-secret" }, "but delivered")
                #expect(entry["label"] == "billing,eu" && entry["labels"] == ["billing", "eu"], "its labels, joined by commas")
                #expect(entry["maxRetries"] == 0)
                #expect(entry["responseStatus"] == 500)
                #expect(entry["responseBody"] == "boom")
                #expect(entry["responseHeader"]?["X-Reason"] == ["broken"])
                let now = WorkflowEngine.systemTime().millisecondsSinceEpoch
                #expect(abs((entry["createdAt"]?.int ?? 0) - now) < 60_000, "unix ms")
                let refused = try #require(all.first { $0["messageId"]?.string == unreachable })
                #expect(refused["responseStatus"] == 0, "no answer came")
                let reason = refused["responseBody"]?.string ?? ""
                #expect(reason.lowercased().contains("connection refused"), "the reason stands in for the body, naming the refusal: \(reason)")

                #expect(try await list("?label=billing")["messages"]?.list?.count == 1)
                // Several values of one filter, as QStash reads them: any of them.
                #expect(try await list("?label=nope,billing")["messages"]?.list?.count == 1)
                #expect(try await list("?label=eu")["messages"]?.list?.count == 1, "either label of 'billing, eu'")
                #expect(try await list("?queueName=mail&queueName=none")["messages"]?.list?.first?["messageId"]?.string == queued)
                #expect(try await list("?topicName=team,mail")["messages"]?.list?.count == 1)
                let twoIds = try await send(.GET, stepwise.url("/v2/dlq?messageId=\(unreachable)&messageId=\(queued)"))
                #expect(twoIds.status == 400 && twoIds.error?.hasPrefix("give one value of messageId") == true, "\(twoIds.body)")
                #expect(try await list("?queueName=mail")["messages"]?.list?.first?["messageId"]?.string == queued)
                #expect(try await list("?responseStatus=500")["messages"]?.list?.count == 3)
                #expect(try await list("?topicName=team")["messages"]?.list?.first?["topicName"] == "team")
                #expect(try await list("?topicName=team")["messages"]?.list?.count == 1)
                #expect(try await list("?responseStatus=404")["messages"]?.list?.isEmpty == true)
                #expect(try await list("?messageId=\(unreachable)")["messages"]?.list?.count == 1)
                let named = try await list("?dlqIds=dlq_\(queued),dlq_msg_none&dlqIds=dlq_\(unreachable)")["messages"]?.list
                #expect(named?.compactMap { $0["messageId"]?.string } == [queued, unreachable], "those named, in order, as qstash-js's listMessages({dlqIds}) asks")
                #expect(try await list("?url=\(target.url("/fail"))")["messages"]?.list?.count == 3, "the three to /fail")
                #expect(try await list("?label=")["messages"]?.list?.count == 4, "an empty value filters on nothing")
                #expect(try await list("?flowControlKey=outbound,other")["messages"]?.list?.compactMap { $0["messageId"]?.string } == [unreachable])
                #expect(try await list("?flowControlKey=\(NamedQueue.flowKey(of: "mail"))")["messages"]?.list?.isEmpty == true, "a queue's key is its own")
                #expect(try await list("?host=127.0.0.1&path=/unreachable")["messages"]?.list?.compactMap { $0["messageId"]?.string } == [unreachable])
                #expect(try await list("?host=localhost")["messages"]?.list?.isEmpty == true)
                #expect(try await list("?path=/fail")["messages"]?.list?.count == 3)
                #expect(try await list("?fromDate=\(now + 60_000)")["messages"]?.list?.isEmpty == true, "none failed after now")
                #expect(try await list("?toDate=\(now + 60_000)")["messages"]?.list?.count == 4)

                let first = try await list("?count=3")
                let cursor = try #require(first["cursor"]?.string)
                let second = try await list("?count=3&cursor=\(cursor)")
                #expect(second["cursor"] == .null, "the last page")
                #expect(second["messages"]?.list?.count == 1)
                let paged = (first["messages"]?.list ?? []) + (second["messages"]?.list ?? [])
                #expect(paged.compactMap { $0["dlqId"]?.string }.sorted() == all.compactMap { $0["dlqId"]?.string }.sorted(), "each entry once")

                #expect(try await list("?count=500")["messages"]?.list?.count == 4, "a count above 100 reads as 100")
                #expect(try await list("?callerIp=127.0.0.1")["messages"]?.list?.count == 4, "each published from loopback")
                #expect(try await list("?callerIP=10.0.0.1")["messages"]?.list?.isEmpty == true)
                #expect(entry["callerIp"] == "127.0.0.1")
                for query in ["?callerIp=,", "?count=0", "?count=-1", "?cursor=nonsense", "?responseStatus=bad", "?fromDate=yesterday"] {
                    #expect(try await send(.GET, stepwise.url("/v2/dlq" + query)).status == 400, "\(query)")
                }

                let id = "dlq_" + labeled
                #expect(try await send(.GET, stepwise.url("/v2/dlq/\(id)")).json?["messageId"]?.string == labeled)
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq/\(id)")).status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/dlq/\(id)")).status == 404)
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq/\(id)")).status == 404)
                for body in ["{}", #"{"dlqIds": [1]}"#, #"["dlq_x"]"#, ""] {
                    #expect(try await send(.DELETE, stepwise.url("/v2/dlq"), body: body).status == 400, "\(body)")
                }
                for query in ["", "?dlqIds=", "?dlqIds=dlq_\(queued)&count=1", "?dlqIds=dlq_\(queued)&label=x", "?lable=x", "?callerIp="] {
                    let refused = try await send(.DELETE, stepwise.url("/v2/dlq\(query)"))
                    #expect(refused.status == 400, "\(query): \(refused.body)")
                }
                #expect(try await list()["messages"]?.list?.count == 3, "a refused delete deletes nothing")
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq?label=x")).json?["deleted"] == 0, "by filter: no entry is labeled x")
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq?flowControlKey=inbound&path=/unreachable")).json?["deleted"] == 0, "both must hold")
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq?dlqIds=dlq_\(queued)")).json?["deleted"] == 1, "ids in the query, as newer clients send them")
                let many = #"{"dlqIds": ["dlq_\#(queued)", "dlq_\#(unreachable)", "dlq_msg_none"]}"#
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq"), body: many).json?["deleted"] == 1)
                // Every entry, a page at a time, as qstash-js's `dlq.delete({all: true, count})` asks.
                let every = try await send(.DELETE, stepwise.url("/v2/dlq?count=100"))
                #expect(every.json == ["deleted": 1], "no cursor after the last page: \(every.body)")
                #expect(try await list()["messages"]?.list?.isEmpty == true)
            }
        }
    }

    @Test("a retry delivers the same body and headers as a new message, with the request's options, and removes the entry", arguments: StoreKind.testable)
    func retried(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/flaky", .status(500), .status(503), .status(200))
            target.fallback("/fail", .status(500))
            try await RunningServer.with([], store: kind, configuration: QStashProtocolTests.fastRetries) { stepwise in
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/" + target.url("/flaky")), body: #"{"order": 7}"#,
                    headers: [("Upstash-Retries", "0"), ("Upstash-Forward-X-Team", "blue")])
                let messageId = try #require(published.json?["messageId"]?.string)
                let id = "dlq_" + messageId
                _ = try await eventually("dead-lettered") { try await send(.GET, stepwise.url("/v2/dlq/\(id)")).status == 200 ? true : nil }

                let retried = try await send(.POST, stepwise.url("/v2/dlq/retry/\(id)"), headers: [("Upstash-Retries", "1")])
                let newId = try #require(retried.json?["messageId"]?.string, "\(retried.body)")
                #expect(newId != messageId)
                let deliveries = try await eventually("delivered on its retry's second attempt") {
                    let requests = target.requests(to: "/flaky")
                    return requests.count == 3 ? requests : nil
                }
                #expect(deliveries.allSatisfy { $0.body == #"{"order": 7}"# && $0.header("X-Team") == "blue" })
                #expect(deliveries[1].header("Upstash-Message-Id") == newId)
                #expect(try await send(.GET, stepwise.url("/v2/dlq/\(id)")).status == 404, "the entry went with its retry")
                #expect(try await send(.POST, stepwise.url("/v2/dlq/retry/\(id)")).status == 404, "nothing to retry twice")
                _ = try await eventually("delivered, not dead-lettered again") {
                    try await send(.GET, stepwise.url("/v2/messages/\(newId)")).status == 404 ? true : nil
                }
                #expect(try await send(.GET, stepwise.url("/v2/dlq")).json?["messages"]?.list?.isEmpty == true)

                func failing(_ path: String, _ body: String) async throws -> String {
                    let answer = try await send(.POST, stepwise.url(path + target.url("/fail")), body: body, headers: [("Upstash-Retries", "0")])
                    let id = "dlq_" + (try #require(answer.json?["messageId"]?.string, "\(answer.body)"))
                    _ = try await eventually("\(body) dead-lettered") { try await send(.GET, stepwise.url("/v2/dlq/\(id)")).status == 200 ? true : nil }
                    return id
                }
                let first = try await failing("/v2/enqueue/mail/", "a")
                let second = try await failing("/v2/enqueue/mail/", "b")
                let plain = try await failing("/v2/publish/", "c")
                let listed = try await send(.GET, stepwise.url("/v2/dlq")).json?["messages"]?.list?.compactMap { $0["dlqId"]?.string }
                #expect(listed == [plain, second, first], "newest failure first")

                let delayed = try await send(.POST, stepwise.url("/v2/dlq/retry/\(first)"), headers: [("Upstash-Delay", "1m")])
                #expect(delayed.status == 400, "a queue's message goes in its turn")
                #expect(delayed.error?.contains("queue 'mail'") == true, "\(delayed.body)")
                let mixed = try await send(.POST, stepwise.url("/v2/dlq/retry?count=100"), headers: [("Upstash-Delay", "1m")])
                #expect(mixed.status == 400 && mixed.error?.contains("queue 'mail'") == true, "\(mixed.body)")
                #expect(try await send(.GET, stepwise.url("/v2/dlq")).json?["messages"]?.list?.count == 3, "a refused retry retries none of its page")

                let later = try await send(.POST, stepwise.url("/v2/dlq/retry/\(plain)"), headers: [("Upstash-Delay", "1h"), ("Upstash-Method", "PUT")])
                let laterId = try #require(later.json?["messageId"]?.string, "\(later.body)")
                let queued = try #require(try await send(.GET, stepwise.url("/v2/messages/\(laterId)")).json)
                let now = WorkflowEngine.systemTime().millisecondsSinceEpoch
                #expect(abs((queued["notBefore"]?.int ?? 0) - (now + 3_600_000)) < 60_000, "delayed by the retry's header")
                #expect(queued["method"] == "PUT")
                #expect(queued["body"] == "c")

                // What would widen a bulk retry beyond the entries meant is refused, retrying none.
                for (query, body) in [
                    ("dlqIds=", ""), ("label=", ""), ("lable=x", ""), ("flowControlKey=", ""), ("host=", ""), ("callerIP=", ""),
                    ("", "{}"), ("queueName=mail", #"{"dlqIds": ["\#(first)"]}"#), ("dlqIds=\(first)", #"{"dlqIds": ["\#(second)"]}"#), ("", ""),
                ] {
                    let refused = try await send(.POST, stepwise.url("/v2/dlq/retry?\(query)"), body: body.isEmpty ? nil : body)
                    #expect(refused.status == 400, "\(query) \(body): \(refused.body)")
                }
                #expect(try await send(.GET, stepwise.url("/v2/dlq")).json?["messages"]?.list?.count == 2, "a refused retry retries nothing")
                target.fallback("/fail", .status(200))  // the retries below are delivered, not dead-lettered again
                let byId = try await send(.POST, stepwise.url("/v2/dlq/retry"), body: #"{"dlqIds": ["\#(first)", "dlq_msg_none"]}"#)
                #expect(byId.json?["responses"]?.list?.count == 1, "\(byId.body)")
                let byFilter = try await send(.POST, stepwise.url("/v2/dlq/retry?queueName=mail"))
                #expect(byFilter.json?["responses"]?.list?.count == 1, "\(byFilter.body)")
                #expect(byFilter.json?["cursor"] == .null)
                _ = try await eventually("both delivered again") { target.requests(to: "/fail").count == 5 ? true : nil }
                #expect(target.requests(to: "/fail").suffix(2).map(\.body).sorted() == ["a", "b"])
            }
        }
    }

    @Test("a message a schedule's tick queued names its schedule, in the DLQ, which filters by it, and in its failure callback")
    func scheduledMessage() async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        try await CountingServer.with { target in
            target.fallback("/fail", .status(500))
            try await RunningServer.with([], configuration: QStashSchedulesTests.polling, clock: { clock.now }) { stepwise in
                let created = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/fail")), body: "tick",
                    headers: [
                        ("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "nightly"), ("Upstash-Retries", "0"),
                        ("Upstash-Failure-Callback", target.url("/failed")),
                    ])
                #expect(created.status == 200, "\(created.body)")
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:00Z"))
                let entries = try await eventually("the tick's message dead-lettered") {
                    let listed = try await send(.GET, stepwise.url("/v2/dlq?scheduleId=nightly")).json?["messages"]?.list ?? []
                    return listed.isEmpty ? nil : listed
                }
                #expect(entries.first?["scheduleId"] == "nightly")
                #expect(entries.first?["body"] == "tick")
                #expect(try await send(.GET, stepwise.url("/v2/dlq?scheduleId=other")).json?["messages"]?.list?.isEmpty == true)
                let notice = try await eventually("the failure callback") { target.requests(to: "/failed").first }
                let failure = try FailureCallbackBody(jsonBytes: Array(notice.body.utf8))
                #expect(failure.scheduleId == "nightly" && failure.dlqId == entries.first?["dlqId"]?.string, "\(notice.body)")
            }
        }
    }

    @Test("the failure callback of a URL group's message names the group, the endpoint and the DLQ entry its receiver may delete", arguments: StoreKind.testable)
    func failureCallbackOfAGroupsMessage(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/fail", .status(500))
            try await RunningServer.with([], store: kind) { stepwise in
                let added = try await send(.POST, stepwise.url("/v2/topics/team/endpoints"), body: #"{"endpoints": [{"url": "\#(target.url("/fail"))", "name": "one"}]}"#)
                #expect(added.status == 200, "\(added.body)")
                let published = try await send(
                    .POST, stepwise.url("/v2/publish/team"), body: "card",
                    headers: [("Upstash-Retries", "0"), ("Upstash-Failure-Callback", target.url("/failed"))])
                let source = try #require(published.json?.list?.first?["messageId"]?.string, "\(published.body)")
                let notice = try await eventually("the failure callback") { target.requests(to: "/failed").first }
                let failure = try FailureCallbackBody(jsonBytes: Array(notice.body.utf8))
                #expect(failure.sourceMessageId == source && failure.topicName == "team" && failure.endpointName == "one", "\(notice.body)")
                let dlqId = try #require(failure.dlqId, "\(notice.body)")
                #expect(try await send(.DELETE, stepwise.url("/v2/dlq/\(dlqId)")).status == 200, "the entry the callback names is deleted")
                #expect(try await send(.GET, stepwise.url("/v2/dlq")).json?["messages"]?.list?.isEmpty == true)
            }
        }
    }
}
