import Crypto
import Foundation
import NIOHTTP1
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's message log (`GET /v2/events`) over real loopback HTTP, on each store: every message's
/// life, filtered and paged as the official clients ask.
@Suite("QStash message log")
struct MessageEventsAPITests {
    @Test("each message's life is logged, newest first: created, delivered; failed attempts, retries, giving up; cancel", arguments: StoreKind.testable)
    func lifeOfMessages(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/flaky", .status(500), .status(200))
            target.fallback("/fail", ScriptedResponse(status: 500, body: "boom", contentType: "text/plain"))
            try await RunningServer.with([], store: kind, configuration: QStashProtocolTests.fastRetries) { stepwise in
                func publish(_ path: String, _ body: String, _ headers: [(String, String)]) async throws -> String {
                    let answer = try await send(.POST, stepwise.url(path), body: body, headers: headers)
                    return try #require(answer.json?["messageId"]?.string, "\(answer.body)")
                }
                let delivered = try await publish(
                    "/v2/publish/" + target.url("/ok"), #"{"n": 1}"#,
                    [
                        ("Upstash-Label", "alpha"), ("Upstash-Forward-Authorization", "Bearer sk-secret"), ("Upstash-Forward-X-Team", "blue"),
                        ("Upstash-Flow-Control-Key", "team-a"), ("Upstash-Flow-Control-Value", "parallelism=4"),
                    ])
                let retried = try await publish("/v2/publish/" + target.url("/flaky"), "b", [("Upstash-Retries", "1")])
                let failed = try await publish("/v2/enqueue/mail/" + target.url("/fail"), "c", [("Upstash-Retries", "0")])
                let canceled = try await publish("/v2/publish/http://LocalHost:9/later", "d", [("Upstash-Delay", "1h")])
                #expect(try await send(.DELETE, stepwise.url("/v2/messages/\(canceled)")).status == 200)

                func events(_ query: String = "") async throws -> [Value] {
                    let answer = try await send(.GET, stepwise.url("/v2/events" + query))
                    #expect(answer.status == 200, "\(query): \(answer.body)")
                    return answer.json?["events"]?.list ?? []
                }
                func states(of id: String) async throws -> [String] {
                    try await events("?messageId=\(id)").compactMap { $0["state"]?.string }
                }
                _ = try await eventually("every message at its end") {
                    let ends = [
                        try await states(of: delivered).first, try await states(of: retried).first, try await states(of: failed).first,
                    ]
                    return ends == ["DELIVERED", "DELIVERED", "FAILED"] ? true : nil
                }
                #expect(try await states(of: delivered) == ["DELIVERED", "CREATED"])
                #expect(try await states(of: retried) == ["DELIVERED", "RETRY", "ERROR", "CREATED"])
                #expect(try await states(of: failed) == ["FAILED", "ERROR", "CREATED"])
                #expect(try await states(of: canceled) == ["CANCELED", "CREATED"])

                let created = try #require(try await events("?messageId=\(delivered)&state=CREATED").first)
                #expect(created["url"]?.string == target.url("/ok"))
                #expect(created["method"] == "POST")
                #expect(created["body"]?.string == Data(#"{"n": 1}"#.utf8).base64EncodedString(), "the log's body is base64")
                #expect(created["header"]?["X-Team"] == ["blue"])
                #expect(created["header"]?["Authorization"] == ["[redacted]"], "a credential for the destination is never shown")
                #expect(created["label"] == "alpha")
                let now = WorkflowEngine.systemTime().millisecondsSinceEpoch
                #expect(abs((created["time"]?.int ?? 0) - now) < 60_000, "unix ms")

                let retry = try #require(try await events("?messageId=\(retried)&state=RETRY").first)
                #expect((retry["nextDeliveryTime"]?.int ?? 0) >= (retry["time"]?.int ?? .max))
                let error = try #require(try await events("?messageId=\(failed)&state=ERROR").first)
                #expect(error["responseStatus"] == 500)
                #expect(error["responseBody"] == "boom")
                #expect(error["error"]?.string?.contains("500") == true)
                #expect(error["queueName"] == "mail")

                #expect(try await events("?state=FAILED").compactMap { $0["messageId"]?.string } == [failed])
                #expect(try await events("?queueName=mail").count == 3)
                #expect(try await events("?label=alpha").count == 2)
                #expect(try await events("?label=zeta,alpha").count == 2, "any of several")
                #expect(try await events("?callerIp=127.0.0.1").count == 11, "every message was published from loopback")
                #expect(try await events("?callerIP=10.0.0.1").isEmpty, "QStash's other spelling")
                #expect(try await events("?flowControlKey=team-a").compactMap { $0["state"]?.string } == ["DELIVERED", "CREATED"], "every event of the message")
                #expect(try await events("?host=127.0.0.1").count == 9, "all but the canceled message went to the target")
                #expect(try await events("?host=localhost").compactMap { $0["messageId"]?.string } == [canceled, canceled], "without ASCII case")
                #expect(try await events("?path=/flaky&path=/fail").count == 7)
                #expect(try await events("?path=/flaky,/fail").isEmpty, "a path may hold a comma: it is one value")
                #expect(try await events("?queueName=mail&queueName=none&state=FAILED").compactMap { $0["messageId"]?.string } == [failed])
                #expect(try await events("?messageIds=\(delivered)&messageIds=\(canceled)").count == 4)
                #expect(try await events("?url=\(target.url("/flaky"))").count == 4)
                #expect(try await events("?state=ACTIVE").isEmpty, "QStash's state, not logged here: nothing matches")
                let inProgress = try await events("?state=IN_PROGRESS")
                #expect(Set(inProgress.compactMap { $0["state"]?.string }) == ["RETRY", "ERROR"], "QStash's IN_PROGRESS: ACTIVE, RETRY or ERROR")
                #expect(inProgress.count == (try await events("?state=RETRY").count) + (try await events("?state=ERROR").count))
                #expect(try await send(.GET, stepwise.url("/v2/logs?state=FAILED")).json?["events"]?.list?.compactMap { $0["messageId"]?.string } == [failed], "the path of QStash's docs")
                #expect(try await events("?fromDate=\(now + 60_000)").isEmpty)

                let all = try await events()
                #expect(all.count == 11, "2 + 4 + 3 + 2 events")
                var paged: [Value] = []
                var cursor = ""
                repeat {
                    let answer = try #require(try await send(.GET, stepwise.url("/v2/events?count=5&cursor=\(cursor)")).json)
                    paged += answer["events"]?.list ?? []
                    cursor = answer["cursor"]?.string ?? ""
                } while !cursor.isEmpty && paged.count <= all.count
                #expect(paged == all, "pages meet without gaps or repeats")
                let huge = try await send(.GET, stepwise.url("/v2/events?count=9223372036854775808"))
                #expect(huge.json?["events"]?.list?.count == all.count, "a count beyond 64 bits reads as the largest: \(huge.body)")

                let deduplicated = [("Upstash-Deduplication-Id", "once"), ("Upstash-Delay", "1h")]
                let once = try await publish("/v2/publish/" + target.url("/ok"), "e", deduplicated)
                #expect(try await publish("/v2/publish/" + target.url("/ok"), "e", deduplicated) == once)
                #expect(try await states(of: once) == ["CREATED"], "a deduplicated publish logs nothing")
                let refused = try await send(
                    .POST, stepwise.url("/v2/batch"),
                    body: #"[{"destination": "\#(target.url("/ok"))", "body": "f"}, {"destination": "ftp://127.0.0.1/x"}]"#)
                #expect(refused.status == 400, "\(refused.body)")
                #expect(try await events().count == all.count + 1, "a refused batch logs none of its messages")

                let redacted = try await publish(
                    "/v2/publish/" + target.url("/private"), "card 4242",
                    [("Upstash-Forward-X-Worker-Secret", "s3cret"), ("Upstash-Redact-Fields", "body, header[X-Worker-Secret]")])
                let arrived = try await eventually("the redacted message delivered") { target.requests(to: "/private").first }
                #expect(arrived.body == "card 4242" && arrived.header("X-Worker-Secret") == "s3cret", "delivered unchanged")
                let shown = try #require(try await events("?messageId=\(redacted)&state=CREATED").first)
                let digest = "REDACTED:" + SHA256.hash(data: Array("s3cret".utf8)).map { String(format: "%02x", $0) }.joined()
                #expect(shown["header"]?["X-Worker-Secret"] == .list([.string(digest)]))
                let body = Data(base64Encoded: shown["body"]?.string ?? "").map { String(decoding: $0, as: UTF8.self) }
                #expect(body?.hasPrefix("REDACTED:") == true && body?.contains("4242") == false, "\(body ?? "")")
                let badRedaction = try await send(
                    .POST, stepwise.url("/v2/publish/" + target.url("/ok")), body: "x", headers: [("Upstash-Redact-Fields", "everything")])
                #expect(badRedaction.status == 400 && badRedaction.error?.contains("everything") == true, "\(badRedaction.body)")

                for query in ["?state=BOGUS", "?count=0", "?count=-1", "?count=1e3", "?cursor=nonsense", "?fromDate=yesterday"] {
                    #expect(try await send(.GET, stepwise.url("/v2/events" + query)).status == 400, "\(query)")
                }
            }
        }
    }
}
