import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// QStash's flow-control API (§10.1 of the protocol notes), as the official `qstash` clients call
/// it: list and read keys, pause and resume a key's deliveries, pin and unpin its limits, reset
/// its rate window, and read this node's global parallelism.
struct FlowControlController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// The longest rate period a pin accepts, as QStash's: one week.
    static let maximumPeriodSeconds: Int64 = 7 * 86_400

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("v2/globalParallelism") { _, _ in
            let (maximum, inFlight) = await engine.globalParallelism
            return JSONResponse.make(.ok, ["parallelismMax": .int(Int64(maximum)), "parallelismCount": .int(Int64(inFlight))])
        }
        let keys = router.group("v2/flowControl")
        keys.get { _, _ in await list() }
        keys.get(":key") { _, context in await report(context.decoded("key") ?? "") }
        keys.post(":key/:action") { request, context in
            await change(context.decoded("key") ?? "", action: context.decoded("action") ?? "", request.uri.queryParameters)
        }
    }

    private func list() async -> Response {
        do {
            return JSONResponse.make(.ok, ["flowControls": .list(try await engine.flowKeys().map(Self.view))])
        } catch {
            return failures.answer("cannot list the flow-control keys", error)
        }
    }

    private func report(_ key: String) async -> Response {
        do {
            guard let report = try await engine.flowKey(key) else {
                return JSONResponse.error(.notFound, "no flow-control key '\(key)': no message used it and it was never paused or pinned")
            }
            return JSONResponse.make(.ok, Self.view(report))
        } catch {
            return failures.answer("cannot read flow-control key '\(key)'", error)
        }
    }

    private func change(_ key: String, action: String, _ query: Parameters) async -> Response {
        let change: FlowKeyChange
        switch Self.change(action, query) {
        case .success(let parsed): change = parsed
        case .failure(let refusal): return JSONResponse.error(refusal.status, refusal.message)
        }
        do {
            try await engine.changeFlowKey(key, change)
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot \(action) flow-control key '\(key)'", error)
        }
    }

    /// What a refused request answers.
    struct Refusal: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    /// The change `/v2/flowControl/{key}/{action}?…` asks for.
    static func change(_ action: String, _ query: Parameters) -> Result<FlowKeyChange, Refusal> {
        switch action {
        case "pause": return .success(.pause)
        case "resume": return .success(.resume)
        case "resetRate": return .success(.resetRate)
        case "pin": return pin(query)
        case "unpin":
            let parallelism = query["parallelism"] == "true", rate = query["rate"] == "true"
            guard parallelism || rate else { return .failure(Refusal(status: .badRequest, message: "unpin needs parallelism=true, rate=true or both")) }
            return .success(.unpin(parallelism: parallelism, rate: rate))
        default:
            return .failure(Refusal(status: .notFound, message: "no such route; a key is changed with pause, resume, pin, unpin or resetRate"))
        }
    }

    private static func pin(_ query: Parameters) -> Result<FlowKeyChange, Refusal> {
        var limits = FlowLimits()
        for name in ["parallelism", "rate", "period"] {
            guard let text = query[Substring(name)] else { continue }
            guard let value = Int64(text), value > 0 else {
                return .failure(Refusal(status: .badRequest, message: "pin's \(name) must be a whole number above 0, not '\(text)'"))
            }
            switch name {
            case "parallelism": limits.parallelism = Int(clamping: value)
            case "rate": limits.rate = Int(clamping: value)
            default:
                guard value <= maximumPeriodSeconds else {
                    return .failure(Refusal(status: .badRequest, message: "pin's period is at most \(maximumPeriodSeconds) seconds (a week), not \(value)"))
                }
                limits.period = value * 1_000
            }
        }
        guard limits != FlowLimits() else { return .failure(Refusal(status: .badRequest, message: "pin needs parallelism, rate or period")) }
        return .success(.pin(limits))
    }

    /// A key as QStash's API reports it; periods in seconds, the window's start in seconds since
    /// the epoch (0 when nothing started in it), the waitlist under both spellings clients read.
    static func view(_ report: FlowKeyReport) -> Value {
        let limits = report.limits
        return [
            "flowControlKey": .string(report.key),
            "waitListSize": .int(Int64(report.waitlistSize)),
            "waitlistSize": .int(Int64(report.waitlistSize)),
            "parallelismMax": .int(Int64(limits.parallelism ?? 0)),
            "parallelismCount": .int(Int64(report.parallelismCount)),
            "rateMax": .int(Int64(limits.rate ?? 0)),
            "rateCount": .int(Int64(report.rateCount)),
            "ratePeriod": .int((limits.period ?? 0) / 1_000),
            "ratePeriodStart": .int((report.ratePeriodStart ?? 0) / 1_000),
            "isPaused": .bool(report.state.paused),
            "isPinnedParallelism": .bool(report.state.pinned.parallelism != nil),
            "isPinnedRate": .bool(report.state.isRatePinned),
        ]
    }
}
