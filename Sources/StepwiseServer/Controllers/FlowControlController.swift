import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's flow-control API (§10.1 of the protocol notes), as the official `qstash` clients call
/// it: list and read keys, pause and resume a key's deliveries, pin and unpin its limits, reset
/// its rate window, and read this node's global parallelism.
struct FlowControlController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// The longest rate period a pin accepts, as QStash's: one week.
    static let maximumPeriodSeconds = StepwiseProtocol.FlowControl.maximumPeriodMilliseconds / 1_000

    /// Adds the routes to `router`. A key is any text (QStash creates keys as messages name
    /// them): one nothing uses reads as nothing set, waiting or counted.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("v2/globalParallelism") { _, _ in
            let (maximum, inFlight) = await engine.globalParallelism
            return JSONResponse.make(.ok, ["parallelismMax": .int(Int64(maximum)), "parallelismCount": .int(Int64(inFlight))])
        }
        let keys = router.group("v2/flowControl")
        keys.get { request, _ in await list(search: request.formParameters["search"].map(String.init)) }
        keys.get(":key") { _, context in await report(context.decoded("key") ?? "") }
        keys.post(":key/:action") { request, context in
            await change(context.decoded("key") ?? "", action: context.decoded("action") ?? "", request.formParameters)
        }
    }

    /// `{"flowControls": [...]}`, as QStash's REST API answers; `?search=` keeps the keys containing it.
    private func list(search: String?) async -> Response {
        do {
            return JSONResponse.make(.ok, ["flowControls": .list(try await engine.flowKeys(search: search).map(Self.view))])
        } catch {
            return failures.answer("cannot list the flow-control keys", error)
        }
    }

    private func report(_ key: String) async -> Response {
        do {
            return JSONResponse.make(.ok, Self.view(try await engine.flowKey(key)))
        } catch {
            return failures.answer("cannot read flow-control key '\(key)'", error)
        }
    }

    private func change(_ key: String, action: String, _ query: Parameters) async -> Response {
        let change: FlowKeyChange
        switch Self.change(action, query) {
        case .success(let parsed): change = parsed
        case .failure(let refusal): return refusal.response
        }
        do {
            try await engine.changeFlowKey(key, change)
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot \(action) flow-control key '\(key)'", error)
        }
    }

    /// The change `/v2/flowControl/{key}/{action}?…` asks for (`reset` is the older clients'
    /// name of `resetRate`).
    static func change(_ action: String, _ query: Parameters) -> Result<FlowKeyChange, ErrorAnswer> {
        switch action {
        case "pause": return .success(.pause)
        case "resume": return .success(.resume)
        case "resetRate", "reset": return .success(.resetRate)
        case "pin": return pin(query)
        case "unpin": return unpin(query)
        default: return .failure(ErrorAnswer(.notFound, "no such route; a key is changed with pause, resume, pin, unpin or resetRate"))
        }
    }

    private static func pin(_ query: Parameters) -> Result<FlowKeyChange, ErrorAnswer> {
        var limits = FlowLimits()
        for name in ["parallelism", "rate", "period"] {
            guard let text = query[Substring(name)] else { continue }
            guard let value = Int64(text), value > 0 else {
                return .failure(ErrorAnswer(.badRequest, "pin's \(name) must be a whole number above 0, not '\(text)'"))
            }
            switch name {
            case "parallelism": limits.parallelism = Int(clamping: value)
            case "rate": limits.rate = Int(clamping: value)
            default:
                guard value <= maximumPeriodSeconds else {
                    return .failure(ErrorAnswer(.badRequest, "pin's period is at most \(maximumPeriodSeconds) seconds (a week), not \(value)"))
                }
                limits.period = value * 1_000
            }
        }
        guard limits != FlowLimits() else { return .failure(ErrorAnswer(.badRequest, "pin needs parallelism, rate or period")) }
        return .success(.pin(limits))
    }

    private static func unpin(_ query: Parameters) -> Result<FlowKeyChange, ErrorAnswer> {
        var chosen: [String: Bool] = [:]
        for name in ["parallelism", "rate"] {
            guard let text = query[Substring(name)] else { continue }
            guard text == "true" || text == "false" else {
                return .failure(ErrorAnswer(.badRequest, "unpin's \(name) must be true or false, not '\(text)'"))
            }
            chosen[name] = text == "true"
        }
        let parallelism = chosen["parallelism"] ?? false, rate = chosen["rate"] ?? false
        guard parallelism || rate else { return .failure(ErrorAnswer(.badRequest, "unpin needs parallelism=true, rate=true or both")) }
        return .success(.unpin(parallelism: parallelism, rate: rate))
    }

    /// `milliseconds` in whole seconds, rounded up, without overflow.
    private static func wholeSecondsRoundedUp(_ milliseconds: Int64) -> Int64 {
        milliseconds / 1_000 + (milliseconds % 1_000 > 0 ? 1 : 0)
    }

    /// A key as QStash's API reports it; periods in whole seconds (rounded up), the window's start
    /// in seconds since the epoch (0 when nothing started in it), the waitlist under both
    /// spellings clients read.
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
            "ratePeriod": .int(Self.wholeSecondsRoundedUp(limits.period ?? 0)),
            "ratePeriodStart": .int((report.ratePeriodStart ?? 0) / 1_000),
            "isPaused": .bool(report.state.paused),
            "isPinnedParallelism": .bool(report.state.pinned.parallelism != nil),
            "isPinnedRate": .bool(report.state.isRatePinned),
        ]
    }
}
