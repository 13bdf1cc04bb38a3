import NIOHTTP1
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's messages API (`GET`/`DELETE /v2/messages/{id}`, bulk `DELETE /v2/messages`) over
/// real loopback HTTP, on each store.
@Suite("QStash messages API")
struct QueuedMessagesAPITests {
    @Test("a queued message can be read and canceled, one, some or all; a run's message is canceled with its run", arguments: StoreKind.testable)
    func readAndCancel(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            func publishLater(_ body: String, headers: [(String, String)] = []) async throws -> String {
                let answer = try await send(
                    .POST, stepwise.url("/v2/publish/http://127.0.0.1:9/later"), body: body, headers: [("Upstash-Delay", "1h")] + headers)
                return try #require(answer.json?["messageId"]?.string, "\(answer.body)")
            }
            let id = try await publishLater(#"{"n": 1}"#, headers: [("Upstash-Forward-X-Team", "blue"), ("Upstash-Retries", "5")])
            let read = try #require(try await send(.GET, stepwise.url("/v2/messages/\(id)")).json)
            #expect(read["messageId"] == .string(id))
            #expect(read["url"] == "http://127.0.0.1:9/later")
            #expect(read["method"] == "POST")
            #expect(read["body"] == #"{"n": 1}"#)
            #expect(read["maxRetries"] == 5)
            #expect(read["header"]?["X-Team"] == ["blue"])
            let now = WorkflowEngine.systemTime().millisecondsSinceEpoch
            #expect(abs((read["createdAt"]?.int ?? 0) - now) < 60_000, "unix ms")
            #expect(abs((read["notBefore"]?.int ?? 0) - (now + 3_600_000)) < 60_000, "due in an hour, unix ms")

            #expect(try await send(.DELETE, stepwise.url("/v2/messages/\(id)")).status == 200)
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(id)")).status == 404)
            #expect(try await send(.DELETE, stepwise.url("/v2/messages/\(id)")).status == 404)

            let some = [try await publishLater("a"), try await publishLater("b")]
            let left = try await publishLater("c")
            let cancelMany = try await send(.DELETE, stepwise.url("/v2/messages"), body: Value.map(ValueMap([("messageIds", .list(some.map(Value.string)))])).jsonText())
            #expect(cancelMany.json == ["cancelled": 2])
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(left)")).status == 200, "only those named")

            let run = try await send(
                .POST, stepwise.url("/v2/publish/http://127.0.0.1:9/workflow"), body: "{}",
                headers: [("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", "wfr_later"), ("Upstash-Delay", "1h")])
            let runMessage = try #require(run.json?["messageId"]?.string, "\(run.body)")
            let refused = try await send(.DELETE, stepwise.url("/v2/messages/\(runMessage)"))
            #expect(refused.status == 400)
            #expect(refused.error?.contains("DELETE /v2/workflows/runs/wfr_later") == true)

            #expect(try await send(.DELETE, stepwise.url("/v2/messages")).json == ["cancelled": 1], "every plain message, the run's kept")
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(left)")).status == 404)
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(runMessage)")).status == 200)
            for body in [#"{"messageIds": [1]}"#, "{}", #"["msg_a"]"#, #"{"messageId": "msg_a"}"#] {
                let bad = try await send(.DELETE, stepwise.url("/v2/messages"), body: body)
                #expect(bad.status == 400, "\(body): \(bad.body)")
                #expect(bad.error?.contains("messageIds") == true, "\(body): \(bad.body)")
            }
            #expect(try await send(.GET, stepwise.url("/v2/messages/\(runMessage)")).status == 200, "a malformed bulk cancel cancels nothing")
        }
    }

    @Test("a bulk cancel by QStash's filters takes only the messages they match (several values of one, any); what would widen it is refused", arguments: StoreKind.testable)
    func cancelByFilter(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            func publishLater(_ path: String, _ headers: [(String, String)] = []) async throws -> String {
                let answer = try await send(
                    .POST, stepwise.url("/v2/publish/http://127.0.0.1:9\(path)"), body: "{}", headers: [("Upstash-Delay", "1h")] + headers)
                return try #require(answer.json?["messageId"]?.string, "\(answer.body)")
            }
            let blue = try await publishLater("/a", [("Upstash-Label", "blue, eu")])
            let red = try await publishLater("/a", [("Upstash-Label", "red")])
            let plain = try await publishLater("/b")
            let other = try await publishLater("/c", [("Upstash-Label", "green")])
            let keyed = try await publishLater("/d", [("Upstash-Flow-Control-Key", "k1"), ("Upstash-Flow-Control-Value", "parallelism=1")])
            let pathed = try await publishLater("/e")
            let queued: @Sendable () async throws -> Set<String> = {
                var left: Set<String> = []
                for id in [blue, red, plain, other, keyed, pathed] where try await send(.GET, stepwise.url("/v2/messages/\(id)")).status == 200 { left.insert(id) }
                return left
            }
            for (query, problem) in [
                ("label=", "label has no value"), ("label=,", "label ',' names no value"), ("host=", "host has no value"),
                ("callerIp=,", "callerIp ',' names no value"), ("lable=blue", "lable is not a parameter of a bulk cancel of messages"),
                ("messageIds=\(blue)&label=red", "messageIds names the messages; filters cannot be given with it"),
                ("count=0", "count must be a whole number from 1"),
            ] {
                let refused = try await send(.DELETE, stepwise.url("/v2/messages?\(query)"))
                #expect(refused.status == 400 && refused.error?.hasPrefix(problem) == true, "\(query): \(refused.body)")
            }
            #expect(try await queued().count == 6, "a refused cancel cancels nothing")
            let tooLong = [String(repeating: "x", count: 257), Array(repeating: String(repeating: "é", count: 100), count: 6).joined(separator: ",")]
            for (label, problem) in [(",", "header 'Upstash-Label' ',' names no label")] + tooLong.map({ ($0, "at most 256 bytes each") }) {
                let refused = try await send(.POST, stepwise.url("/v2/publish/http://127.0.0.1:9/a"), body: "{}", headers: [("Upstash-Label", label)])
                #expect(refused.status == 400 && refused.error?.contains(problem) == true, "\(refused.body)")
            }

            #expect(try await send(.DELETE, stepwise.url("/v2/messages?label=eu,red&url=http://127.0.0.1:9/a")).json == ["cancelled": 2])
            #expect(try await queued() == [plain, other, keyed, pathed])
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?path=/e&host=localhost")).json == ["cancelled": 0], "both must hold")
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?path=/e&callerIp=10.0.0.1")).json == ["cancelled": 0], "published from loopback")
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?path=/e&host=127.0.0.1&callerIp=127.0.0.1")).json == ["cancelled": 1])
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?flowControlKey=k0,k1")).json == ["cancelled": 1])
            #expect(try await queued() == [plain, other])
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?messageIds=\(plain)")).json == ["cancelled": 1], "ids in the query, as QStash's API takes them")
            let future = WorkflowEngine.systemTime().millisecondsSinceEpoch + 3_600_000
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?fromDate=\(future)")).json == ["cancelled": 0])
            #expect(try await send(.DELETE, stepwise.url("/v2/messages?count=1")).json == ["cancelled": 1])
            #expect(try await queued().isEmpty)
        }
    }

    @Test("a message being delivered is too late to cancel: 409, and it arrives", arguments: StoreKind.testable)
    func tooLateInFlight(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            let open = target.gate("/held")
            try await RunningServer.with([], store: kind) { stepwise in
                let published = try await send(.POST, stepwise.url("/v2/publish/" + target.url("/held")), body: "{}")
                let id = try #require(published.json?["messageId"]?.string)
                _ = try await eventually("the delivery in flight") { target.requests(to: "/held").isEmpty ? nil : true }
                let late = try await send(.DELETE, stepwise.url("/v2/messages/\(id)"))
                #expect(late.status == 409, "\(late.body)")
                #expect(try await send(.DELETE, stepwise.url("/v2/messages")).json == ["cancelled": 0], "nor among all")
                open()
                _ = try await eventually("the delivery ended") { try await send(.GET, stepwise.url("/v2/messages/\(id)")).status == 404 ? true : nil }
            }
        }
    }
}
