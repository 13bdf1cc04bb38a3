import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// QStash's flow-control API (`/v2/flowControl`, `/v2/globalParallelism`) over real loopback
/// HTTP, on each store: what a key reports, and what pausing, pinning and resetting do to the
/// deliveries of QStash messages and YAML runs under it.
@Suite("Flow-control API")
struct FlowControlAPITests {
    @Test("pausing a key holds its messages and runs under either of their keys, which it reports waiting; resuming delivers every one", arguments: StoreKind.testable)
    func pauseAndResume(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            let limited = try definition("""
                workflow: limited
                concurrency: {key: mail, limit: 5}
                steps:
                  - id: send
                    http: {url: "\(target.url("/run"))"}
                """)
            let rated = try definition("""
                workflow: rated
                rate_limit: {key: mail, limit: 100, period: 1s}
                steps:
                  - id: send
                    http: {url: "\(target.url("/run"))"}
                """)
            try await RunningServer.with([limited, rated], store: kind) { stepwise in
                #expect(try await send(.POST, stepwise.url("/v2/flowControl/mail/pause")).status == 200)
                #expect(try await stepwise.flowKey("mail")?["isPaused"] == true)
                #expect(try await stepwise.publish(3, to: target.url("/message"), key: "mail", value: "parallelism=5") == 200)
                let runs = [try await stepwise.startRun("limited", "{}"), try await stepwise.startRun("rated", "{}")]
                _ = try await eventually("five deliveries waiting") { try await stepwise.flowKey("mail")?["waitListSize"] == 5 ? true : nil }
                #expect(target.requests(to: "/message").isEmpty && target.requests(to: "/run").isEmpty, "nothing of a paused key is delivered")
                let paused = try #require(try await stepwise.flowKey("mail"))
                #expect(paused["parallelismMax"] == 5, "the limit the key's newest message carries")
                let listed = try await send(.GET, stepwise.url("/v2/flowControl")).json?["flowControls"]?.list ?? []
                #expect(listed.map { $0["flowControlKey"] } == ["mail"])
                // Limits changed on a paused key leave its waiting deliveries waiting (they went
                // back to the queue, and the waitlist read 0 until the delivery loop saw them again).
                for change in ["pin?parallelism=2", "unpin?parallelism=true"] {
                    #expect(try await send(.POST, stepwise.url("/v2/flowControl/mail/" + change)).status == 200)
                    #expect(try await stepwise.flowKey("mail")?["waitListSize"] == 5, "after \(change)")
                }

                #expect(try await send(.POST, stepwise.url("/v2/flowControl/mail/resume")).status == 200)
                _ = try await eventually("the three messages") { target.requests(to: "/message").count == 3 ? true : nil }
                for run in runs { #expect(try await finishedRun(run, in: stepwise.store).status == .succeeded) }
                // The rated run's start keeps the key's 1 s rate window open until it ends.
                _ = try await eventually("the key no longer listed once nothing uses nor sets it") {
                    try await send(.GET, stepwise.url("/v2/flowControl")).json?["flowControls"] == [] ? true : nil
                }
            }
        }
    }

    @Test("a pinned parallelism overrides the messages' own until it is unpinned", arguments: StoreKind.testable)
    func pinAndUnpin(kind: StoreKind) async throws {
        let pinnedLoad = InFlightGauge()
        try await CountingServer.with { target in
            target.handle("/pinned") { _ in
                await pinnedLoad.during { try? await Task.sleep(for: .milliseconds(300)) }
                return .json("{}")
            }
            // Held until opened: deliveries that arrive meanwhile are in flight together.
            let openUnpinned = target.gate("/unpinned")
            try await RunningServer.with([], store: kind) { stepwise in
                #expect(try await send(.POST, stepwise.url("/v2/flowControl/api/pin?parallelism=1")).status == 200)
                #expect(try await stepwise.publish(4, to: target.url("/pinned"), key: "api", value: "parallelism=4") == 200)
                _ = try await eventually("all four deliveries") { target.requests(to: "/pinned").count == 4 ? true : nil }
                #expect(pinnedLoad.highest == 1, "one at a time, as pinned, not four")
                let pinned = try #require(try await stepwise.flowKey("api"))
                #expect(pinned["isPinnedParallelism"] == true)
                #expect(pinned["parallelismMax"] == 1)
                #expect(pinned["isPinnedRate"] == false)

                #expect(try await send(.POST, stepwise.url("/v2/flowControl/api/unpin?parallelism=true")).status == 200)
                #expect(try await stepwise.flowKey("api")?["isPinnedParallelism"] == false)
                #expect(try await stepwise.publish(4, to: target.url("/unpinned"), key: "api", value: "parallelism=4") == 200)
                _ = try await eventually("the messages' own limit again: all four in flight at once") {
                    target.requests(to: "/unpinned").count == 4 ? true : nil
                }
                openUnpinned()
            }
        }
    }

    @Test("a key reports the starts of its rate window; resetRate empties the window", arguments: StoreKind.testable)
    func rateWindow(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            try await RunningServer.with([], store: kind) { stepwise in
                #expect(try await stepwise.publish(1, to: target.url("/rated"), key: "hourly", value: "rate=5, period=1h") == 200)
                _ = try await eventually("the delivery") { target.requests(to: "/rated").count == 1 ? true : nil }
                let counted = try #require(try await stepwise.flowKey("hourly"))
                #expect(counted["rateMax"] == 5)
                #expect(counted["ratePeriod"] == 3600, "seconds")
                #expect(counted["rateCount"] == 1)
                #expect((counted["ratePeriodStart"]?.int ?? 0) > 1_700_000_000, "seconds since the epoch")

                #expect(try await send(.POST, stepwise.url("/v2/flowControl/hourly/resetRate")).status == 200)
                #expect(try await stepwise.flowKey("hourly")?["rateCount"] == 0)
                #expect(try await send(.POST, stepwise.url("/v2/flowControl/hourly/pin?rate=2&period=60")).status == 200)
                let pinned = try #require(try await stepwise.flowKey("hourly"))
                #expect(pinned["isPinnedRate"] == true)
                #expect(pinned["rateMax"] == 2)
                #expect(pinned["ratePeriod"] == 60)
            }
        }
    }

    @Test("bad requests are refused naming what is wrong, a key nothing uses reads as empty, and nothing is kept")
    func refusals() async throws {
        try await RunningServer.with([]) { stepwise in
            let cases: [(path: String, status: Int, expected: String)] = [
                ("/v2/flowControl/k/pin", 400, "pin needs parallelism, rate or period"),
                ("/v2/flowControl/k/pin?parallelism=0", 400, "parallelism"),
                ("/v2/flowControl/k/pin?rate=many", 400, "'many'"),
                ("/v2/flowControl/k/pin?period=604801", 400, "a week"),
                ("/v2/flowControl/k/unpin", 400, "unpin needs"),
                ("/v2/flowControl/k/unpin?rate=yes", 400, "'yes'"),
                ("/v2/flowControl/k/stop", 404, "pause, resume, pin, unpin or resetRate"),
            ]
            for (path, status, expected) in cases {
                let answer = try await send(.POST, stepwise.url(path))
                #expect(answer.status == status, "\(path): \(answer.body)")
                #expect(answer.error?.contains(expected) == true, "\(path): \(answer.body)")
            }
            let unused = try await send(.GET, stepwise.url("/v2/flowControl/k"))
            #expect(unused.status == 200)
            #expect(unused.json?["isPaused"] == false && unused.json?["waitListSize"] == 0 && unused.json?["parallelismMax"] == 0)
            #expect(try await send(.POST, stepwise.url("/v2/flowControl/k/pause"), token: nil).status == 401)
            #expect(try await stepwise.engine.flowKeys().isEmpty, "nothing kept by a refused request")
        }
    }

    @Test("global parallelism reports the node's --concurrency")
    func globalParallelism() async throws {
        try await RunningServer.with([], configuration: .init(maximumConcurrentDeliveries: 12)) { stepwise in
            let answer = try await send(.GET, stepwise.url("/v2/globalParallelism"))
            #expect(answer.json == ["parallelismMax": 12, "parallelismCount": 0])
        }
    }

    @Test("a key's pins replace only the limits counted under it")
    func pinsApplyToTheirKeyOnly() {
        let run = FlowControl(concurrencyKey: "a", concurrencyLimit: 3, rateKey: "b", rateLimit: 10, ratePeriod: 1_000)
        let pins = FlowKeyState(pinned: FlowLimits(parallelism: 1, rate: 2, period: 60_000))
        #expect(pins.pinning(run, for: "a") == FlowControl(concurrencyKey: "a", concurrencyLimit: 1, rateKey: "b", rateLimit: 10, ratePeriod: 1_000))
        #expect(pins.pinning(run, for: "b") == FlowControl(concurrencyKey: "a", concurrencyLimit: 3, rateKey: "b", rateLimit: 2, ratePeriod: 60_000))
        let rateOnly = FlowControl(rateKey: "b", rateLimit: 10, ratePeriod: 1_000)
        #expect(pins.pinning(rateOnly, for: "b").concurrencyKey == nil, "no slot to wait for where no slot is counted and released")
        let message = FlowControl(concurrencyKey: "k", concurrencyLimit: 4, rateKey: "k")
        #expect(FlowKeyState(pinned: FlowLimits(rate: 3)).pinning(message, for: "k").ratePeriod == FlowControl.defaultRatePeriod)
    }
}
