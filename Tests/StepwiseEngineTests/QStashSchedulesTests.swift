import Foundation
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseTesting
import Testing

/// QStash's schedules and flow control served by Stepwise, over real loopback HTTP.
@Suite("QStash schedules and flow control")
struct QStashSchedulesTests {
    /// The engine's clock moves only when a test moves it; the loop looks at it every 50 ms.
    static let polling = WorkflowEngine.Configuration(maximumIdle: .milliseconds(50))

    @Test func aScheduleDeliversItsMessageOnEachTickAndCanBeReadPausedReplacedAndDeleted() async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        let tickTime = try TimestampValue(parsing: "2026-06-01T00:01:00Z")
        try await CountingServer.with { target in
            try await RunningServer.with([], configuration: Self.polling, clock: { clock.now }) { stepwise in
                let created = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/tick")), body: #"{"a":1}"#,
                    headers: [
                        ("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "every-minute"), ("Upstash-Forward-X-Team", "blue"),
                        ("Upstash-Forward-Authorization", "Bearer destination-secret"), ("Upstash-Forward-X-Private", "p"),
                        ("Upstash-Redact-Fields", "header[X-Private]"),
                    ])
                #expect(created.status == 200, "\(created.body)")
                #expect(created.json?["scheduleId"] == "every-minute")
                try await Task.sleep(for: .milliseconds(200))
                #expect(target.requests(to: "/tick").isEmpty, "nothing before the tick")

                clock.advance(to: tickTime)
                let tick = try await eventually("the first tick's delivery") { target.requests(to: "/tick").first }
                #expect(tick.body == #"{"a":1}"#)
                #expect(tick.header("Upstash-Schedule-Id") == "every-minute")
                #expect(tick.header("X-Team") == "blue")
                #expect(tick.header("X-Private") == "p", "a redacted header is delivered as it is")
                #expect(tick.header("Authorization") == "Bearer destination-secret", "the forwarded header, never the creator's token")
                let verifier = SignatureVerifier(keys: try await stepwise.engine.signingKeys())
                _ = try verifier.verify(
                    token: tick.header("Upstash-Signature") ?? "", body: Array(tick.body.utf8), now: clock.now.secondsSinceEpoch, leeway: 5,
                    url: target.url("/tick"))

                let answer = try await send(.GET, stepwise.url("/v2/schedules/every-minute"))
                #expect(!answer.body.contains("destination-secret") && !answer.body.contains(RunningServer.token), "no credential is shown")
                let read = try #require(answer.json)
                #expect(read["header"]?["Authorization"] == ["[redacted]"])
                #expect(read["destination"]?.string == target.url("/tick"))
                #expect(read["cron"] == "* * * * *")
                #expect(read["header"]?["X-Team"] == ["blue"])
                #expect(read["header"]?["X-Private"]?.list?.first?.string?.hasPrefix("REDACTED:") == true, "shown as a digest")
                #expect(read["lastScheduleTime"] == .int(tickTime.millisecondsSinceEpoch))
                #expect(read["nextScheduleTime"] == .int(tickTime.millisecondsSinceEpoch + 60_000))
                #expect(read["isPaused"] == false)
                #expect(read["callerIp"] == "127.0.0.1" && read["callerIP"] == "127.0.0.1", "the address it was created from")
                let tickId = try #require(read["lastMessageId"]?.string)
                #expect(read["lastScheduleStates"] == ["\(tickId)": "IN_PROGRESS"] || read["lastScheduleStates"] == ["\(tickId)": "SUCCESS"])
                _ = try await eventually("the tick's delivery in the listing's lastScheduleStates") { () async throws -> Bool? in
                    let listed = try await send(.GET, stepwise.url("/v2/schedules")).json?.list?.first { $0["scheduleId"] == "every-minute" }
                    return listed?["lastScheduleStates"] == ["\(tickId)": "SUCCESS"] ? true : nil
                }
                func logged(from address: String) async throws -> [String] {
                    let answer = try await send(.GET, stepwise.url("/v2/events?scheduleId=every-minute&callerIp=\(address)"))
                    let events = try #require(answer.json?["events"]?.list, "\(answer.status) \(answer.body)")
                    return events.compactMap { $0["messageId"]?.string }
                }
                #expect(try await logged(from: "127.0.0.1").contains(tickId), "the tick's message is its schedule's caller's")
                #expect(try await logged(from: "127.0.0.2").isEmpty)
                let stored = try await stepwise.store.queueSchedules()
                #expect(!stored.contains { $0.headers.contains { $0.name.lowercased() == "authorization" } }, "nor is it stored")

                // Registering the same schedule again (a runner restarting) keeps its next tick.
                _ = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/tick")), body: #"{"a":2}"#,
                    headers: [("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "every-minute")])
                let replaced = try #require(try await send(.GET, stepwise.url("/v2/schedules/every-minute")).json)
                #expect(replaced["nextScheduleTime"] == .int(tickTime.millisecondsSinceEpoch + 60_000))
                #expect(replaced["body"] == #"{"a":2}"#)

                #expect(try await send(.PATCH, stepwise.url("/v2/schedules/every-minute/pause")).status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/schedules/every-minute")).json?["isPaused"] == true)
                #expect(try await send(.PATCH, stepwise.url("/v2/schedules/every-minute/resume")).status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/schedules/every-minute")).json?["isPaused"] == false)
                let listed = try #require(try await send(.GET, stepwise.url("/v2/schedules")).json?.list)
                #expect(listed.compactMap { $0["scheduleId"]?.string } == ["every-minute"])

                #expect(try await send(.DELETE, stepwise.url("/v2/schedules/every-minute")).status == 200)
                #expect(try await send(.GET, stepwise.url("/v2/schedules/every-minute")).status == 404)
                #expect(try await send(.DELETE, stepwise.url("/v2/schedules/every-minute")).status == 404)
                #expect(target.requests(to: "/tick").count == 1)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func aScheduleShowsTheOptionsOfItsMessageAndItsCallerAsQStashDoes(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let body: [UInt8] = [0xFF, 0x00, 0x41]
            let created = try await send(
                .POST, stepwise.url("/v2/schedules/http://127.0.0.1:9/tick"), bytes: body,
                headers: [
                    ("Upstash-Cron", "0 0 1 1 *"), ("Upstash-Schedule-Id", "options"), ("Upstash-Delay", "90s"),
                    ("Upstash-Callback", "http://127.0.0.1:9/done"), ("Upstash-Failure-Callback", "http://127.0.0.1:9/failed"),
                    ("Upstash-Callback-Forward-X-Cb", "1"), ("Upstash-Failure-Callback-Forward-Authorization", "Bearer sk_live_hidden"),
                    ("Upstash-Timeout", "7s"), ("Upstash-Label", "billing,nightly"), ("Upstash-Retry-Delay", "1000 * retried"), ("Upstash-Retries", "2"),
                    ("Upstash-Flow-Control-Key", "nightly"), ("Upstash-Flow-Control-Value", "rate=5,period=1m,parallelism=2"),
                ])
            #expect(created.status == 200, "\(created.body)")
            let read = try #require(try await send(.GET, stepwise.url("/v2/schedules/options")).json)
            #expect(read["bodyBase64"] == .string(Data(body).base64EncodedString()) && read["body"] == nil, "a body that is no UTF-8, in base64")
            #expect(read["delay"] == 90 && read["retries"] == 2)
            #expect(read["callback"] == "http://127.0.0.1:9/done" && read["failureCallback"] == "http://127.0.0.1:9/failed")
            // qstash-py's parse_schedule_response reads these three back into a Schedule.
            #expect(read["timeout"] == 7)
            #expect(read["callbackHeader"] == ["X-Cb": ["1"]])
            #expect(read["failureCallbackHeader"] == ["Authorization": ["[redacted]"]], "a credential is never shown")
            #expect(read["label"] == "billing,nightly" && read["labels"] == ["billing", "nightly"])
            #expect(read["retryDelayExpression"] == "1000 * retried")
            #expect(read["flowControlKey"] == "nightly" && read["rate"] == 5 && read["period"] == 60 && read["parallelism"] == 2)
            #expect(read["lastScheduleStates"] == nil, "no tick yet")
            #expect(read["callerIP"] == "127.0.0.1")
        }
    }

    @Test(arguments: StoreKind.testable)
    func aTickWhoseMessageGaveUpShowsAsFailed(kind: StoreKind) async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        try await CountingServer.with { target in
            target.fallback("/down", .status(500))
            try await RunningServer.with([], store: kind, configuration: Self.polling, clock: { clock.now }) { stepwise in
                let created = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/down")), body: "{}",
                    headers: [("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "failing"), ("Upstash-Retries", "0")])
                #expect(created.status == 200, "\(created.body)")
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:00Z"))
                _ = try await eventually("the failed tick in lastScheduleStates") { () async throws -> Bool? in
                    let read = try await send(.GET, stepwise.url("/v2/schedules/failing")).json
                    guard let id = read?["lastMessageId"]?.string else { return nil }
                    return read?["lastScheduleStates"] == ["\(id)": "FAIL"] ? true : nil
                }
                #expect(target.requests(to: "/down").count == 1)
            }
        }
    }

    @Test("a schedule to a URL group delivers each tick to every endpoint the group has then; a tick after the group's deletion is skipped", arguments: StoreKind.testable)
    func aScheduleToAURLGroupFansOut(kind: StoreKind) async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        try await CountingServer.with { target in
            try await RunningServer.with([], store: kind, configuration: Self.polling, clock: { clock.now }) { stepwise in
                let endpoints: Value = ["endpoints": [["url": .string(target.url("/first"))], ["url": .string(target.url("/second")), "name": "two"]]]
                #expect(try await send(.POST, stepwise.url("/v2/topics/team/endpoints"), body: endpoints.jsonText()).status == 200)
                let created = try await send(
                    .POST, stepwise.url("/v2/schedules/team"), body: "tick", headers: [("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "fan")])
                #expect(created.status == 200, "\(created.body)")
                #expect(try await send(.GET, stepwise.url("/v2/schedules/fan")).json?["destination"] == "team")
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:00Z"))
                for path in ["/first", "/second"] {
                    let received = try await eventually("the tick at \(path)") { target.requests(to: path).first }
                    #expect(received.body == "tick")
                    #expect(received.header("Upstash-Schedule-Id") == "fan" && received.header("Upstash-Topic-Name") == "team")
                }
                #expect(try await send(.DELETE, stepwise.url("/v2/topics/team")).status == 200)
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:02:00Z"))
                _ = try await eventually("the next tick passed") { () async throws -> Bool? in
                    try await send(.GET, stepwise.url("/v2/schedules/fan")).json?["nextScheduleTime"]?.int
                        == (try TimestampValue(parsing: "2026-06-01T00:03:00Z")).millisecondsSinceEpoch ? true : nil
                }
                #expect(target.requests(to: "/first").count == 1 && target.requests(to: "/second").count == 1, "no group, nothing delivered")
            }
        }
    }

    @Test("a schedule stored with headers a new message may no longer carry (a timeout or a rate period of 0) still fires at its ticks")
    func anOlderScheduleStillFires() async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        try await CountingServer.with { target in
            try await RunningServer.with([], configuration: Self.polling, clock: { clock.now }) { stepwise in
                let headers = [
                    ForwardedHeader("Upstash-Timeout", "0"), ForwardedHeader("Upstash-Flow-Control-Key", "older"),
                    ForwardedHeader("Upstash-Flow-Control-Value", "rate=5, period=0s"),
                ]
                try await stepwise.store.saveQueueSchedule(QueueSchedule(
                    id: "older", destination: target.url("/older"), cron: "* * * * *", timeZone: nil, headers: headers, body: Array("{}".utf8),
                    createdAt: clock.now, nextFireAt: try TimestampValue(parsing: "2026-06-01T00:01:00Z")))
                let refused = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/older")), body: "{}",
                    headers: [("Upstash-Cron", "* * * * *"), ("Upstash-Timeout", "0")])
                #expect(refused.status == 400, "a new schedule may not")
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:00Z"))
                // Its message is published as it was before (an attempt of 0 ms may end before it is sent).
                _ = try await eventually("the older schedule's tick") { () async throws -> String? in
                    try await send(.GET, stepwise.url("/v2/schedules/older")).json?["lastMessageId"]?.string
                }
            }
        }
    }

    @Test func aPausedScheduleSkipsItsTicksAndAResumedOneGoesOnFromTheNextTick() async throws {
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        try await CountingServer.with { target in
            try await RunningServer.with([], configuration: Self.polling, clock: { clock.now }) { stepwise in
                _ = try await send(
                    .POST, stepwise.url("/v2/schedules/" + target.url("/tick")), body: "{}",
                    headers: [("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "paused")])
                #expect(try await send(.PATCH, stepwise.url("/v2/schedules/paused/pause")).status == 200)
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:30Z"))
                try await Task.sleep(for: .milliseconds(300))
                #expect(target.requests(to: "/tick").isEmpty, "the tick passed while paused")

                #expect(try await send(.PATCH, stepwise.url("/v2/schedules/paused/resume")).status == 200)
                let next = try TimestampValue(parsing: "2026-06-01T00:02:00Z")
                #expect(try await send(.GET, stepwise.url("/v2/schedules/paused")).json?["nextScheduleTime"] == .int(next.millisecondsSinceEpoch))
                clock.advance(to: next)
                _ = try await eventually("the next tick after resuming") { target.requests(to: "/tick").first }
                try await Task.sleep(for: .milliseconds(200))
                #expect(target.requests(to: "/tick").count == 1, "the skipped tick is not made up")
            }
        }
    }

    @Test func schedulesThatCannotWorkAreRefusedNamingWhatIsWrongAndNothingIsStored() async throws {
        try await RunningServer.with([]) { stepwise in
            let cases: [(headers: [(String, String)], destination: String, expected: String)] = [
                ([], "http://127.0.0.1:9/x", "Upstash-Cron"),
                ([("Upstash-Cron", "61 * * * *")], "http://127.0.0.1:9/x", "61"),
                ([("Upstash-Cron", "CRON_TZ=Mars/Olympus 0 9 * * *")], "http://127.0.0.1:9/x", "CRON_TZ=Mars/Olympus is not an IANA time zone"),
                ([("Upstash-Cron", "CRON_TZ=Europe/Berlin 0 9 * * 8")], "http://127.0.0.1:9/x", "fields '0 9 * * 8'"),
                ([("Upstash-Cron", "CRON_TZ= 0 9 * * *")], "http://127.0.0.1:9/x", "CRON_TZ="),
                ([("Upstash-Cron", "0 0 30 2 *")], "http://127.0.0.1:9/x", "never occurs in February"),
                ([("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "no spaces")], "http://127.0.0.1:9/x", "Upstash-Schedule-Id"),
                ([("Upstash-Cron", "* * * * *"), ("Upstash-Schedule-Id", "..")], "http://127.0.0.1:9/x", "other than '.' or '..'"),
                ([("Upstash-Cron", "* * * * *"), ("Upstash-Retries", "many")], "http://127.0.0.1:9/x", "Upstash-Retries"),
                ([("Upstash-Cron", "* * * * *")], "ftp://127.0.0.1/x", "ftp"),
                ([("Upstash-Cron", "* * * * *")], "no-such-group", "no URL group named 'no-such-group'"),
            ]
            for (headers, destination, expected) in cases {
                let answer = try await send(.POST, stepwise.url("/v2/schedules/" + destination), body: "{}", headers: headers)
                #expect(answer.status == 400, "\(headers): \(answer.body)")
                #expect(answer.error?.contains(expected) == true, "\(headers): \(answer.body)")
            }
            #expect(try await stepwise.store.queueSchedules().isEmpty)
            let unauthorized = try await send(
                .POST, stepwise.url("/v2/schedules/http://127.0.0.1:9/x"), body: "{}", headers: [("Upstash-Cron", "* * * * *")], token: nil)
            #expect(unauthorized.status == 401)
            #expect(try await stepwise.store.queueSchedules().isEmpty)
        }
    }

    @Test func messagesUnderOneFlowControlKeyKeepToItsParallelismAndAllArrive() async throws {
        let load = InFlightGauge()
        let opened = Mutex(false)
        try await CountingServer.with { target in
            // Each delivery is held until the test opens the gate, so the limit is seen used
            // however slowly the machine starts them.
            target.handle("/slow") { _ in
                await load.during {
                    while !opened.withLock({ $0 }), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                }
                return .json("{}")
            }
            try await RunningServer.with([]) { stepwise in
                #expect(try await stepwise.publish(6, to: target.url("/slow"), key: "slow-api", value: "parallelism=2") == 200)
                _ = try await eventually("two deliveries in flight") { target.requests(to: "/slow").count == 2 ? true : nil }
                try await Task.sleep(for: .milliseconds(300))
                #expect(target.requests(to: "/slow").count == 2, "no third while two are in flight")
                opened.withLock { $0 = true }
                _ = try await eventually("all six deliveries") { target.requests(to: "/slow").count == 6 ? true : nil }
                #expect(load.highest == 2, "two at a time, never more")
            }
        }
    }

    @Test func messagesUnderARateStartNoFasterThanItsPeriodAllows() async throws {
        // The engine's clock only moves when the test moves it, so the window is exact.
        let clock = try VirtualClock.at("2026-06-01T00:00:00Z")
        try await CountingServer.with { target in
            try await RunningServer.with([], clock: { clock.now }) { stepwise in
                #expect(try await stepwise.publish(4, to: target.url("/rated"), key: "mail", value: "rate=2, period=1s") == 200)
                _ = try await eventually("the first two deliveries") { target.requests(to: "/rated").count == 2 ? true : nil }
                try await Task.sleep(for: .milliseconds(400))
                #expect(target.requests(to: "/rated").count == 2, "the other two wait for the next window")
                clock.advance(to: try clock.now.plus(seconds: 1))
                _ = try await eventually("all four deliveries") { target.requests(to: "/rated").count == 4 ? true : nil }
            }
        }
    }
}

/// Counts requests in progress at once and keeps the highest count seen.
final class InFlightGauge: Sendable {
    private let counts = Mutex<(current: Int, highest: Int)>((0, 0))

    var highest: Int { counts.withLock { $0.highest } }

    /// Runs `work` counted as in flight.
    func during(_ work: () async -> Void) async {
        counts.withLock { counts in
            counts.current += 1
            counts.highest = max(counts.highest, counts.current)
        }
        await work()
        counts.withLock { $0.current -= 1 }
    }
}
