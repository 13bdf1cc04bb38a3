import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which runs a bulk cancel (`DELETE /v2/workflows/runs`) takes, as Upstash's clients name them:
/// run ids (`?workflowRunIds=a&workflowRunIds=b`), workflow URLs (`?workflowUrl=…`, a prefix unless
/// `workflowUrlExactMatch=true`; a URL also names the YAML workflow of its last path segment) or
/// YAML workflow names, in the query or in a JSON body (`{"workflowRunIds": [...]}`, `{"workflow":
/// name}`, `{"workflowUrl": url or [urls]}`); or, as the JS SDK's `client.cancel({filter})` and
/// `({all: true})` ask, up to `count` running runs matching `label`, `fromDate`/`toDate` (unix
/// milliseconds of the run's start, inclusive), an exact `workflowUrl` or a `workflow`.
struct RunSelection {
    var runIds: [String] = []
    var workflows: [String] = []
    /// Workflow URLs of SDK runs: prefixes, unless `exactEndpoint` (`workflowUrlExactMatch=true`).
    var endpoints: [String] = []
    var exactEndpoint = false
    /// The running runs a filter or `count` alone takes, which the other fields then leave empty.
    var filter: RunFilter?

    var isEmpty: Bool { runIds.isEmpty && workflows.isEmpty && endpoints.isEmpty && filter == nil }

    /// The runs one filtered cancel takes without a `count`, as Upstash's client asks by default.
    static let defaultCount = 100
    /// The most runs one filtered cancel takes.
    static let maximumCount = 1_000

    private static let help = "name the runs: ?workflowRunIds=…, ?workflowUrl=…, ?label=…, ?count=N for any, or a body {\"workflowRunIds\": [...]} or {\"workflow\": \"name\"}"

    /// Filters of Upstash's API that Stepwise does not record, with why.
    private static let unserved = [
        ("callerIp", "Stepwise does not record the address a run was started from"),
        ("flowControlKey", "runs are not kept by flow-control key"),
    ]

    /// The selection `request` makes; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<RunSelection, ErrorAnswer> {
        let parameters = request.uri.queryParameters
        do {
            if let filter = try filter(parameters) { return .success(RunSelection(filter: filter)) }
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
        var selection = RunSelection()
        selection.runIds = parameters.getAll("workflowRunIds").flatMap { $0.split(separator: ",").map(String.init) }
        selection.workflows = parameters.getAll("workflowUrl").compactMap(workflowName(url:)) + parameters.getAll("workflow")
        selection.endpoints = parameters.getAll("workflowUrl").map { String($0) }
        selection.exactEndpoint = parameters["workflowUrlExactMatch"] == "true"
        if !selection.isEmpty { return .success(selection) }
        return await bodySelection(request)
    }

    /// The filter of the query, `nil` when it names runs rather than filtering them (no label,
    /// dates or lone `count`).
    private static func filter(_ parameters: Hummingbird.Parameters) throws(ProtocolError) -> RunFilter? {
        let query = ListingQuery(parameters: parameters)
        for (name, why) in unserved where query.text(name) != nil {
            throw ProtocolError("\(name) cannot select runs to cancel: \(why)")
        }
        let (from, to) = try query.dates()
        let label = query.text("label")
        let names = ["workflowRunIds", "workflowUrl", "workflow"].filter { !query.texts($0).isEmpty }
        let filtered = label != nil || from != nil || to != nil
        guard filtered || (names.isEmpty && query.text("count") != nil) else { return nil }
        if names.contains("workflowRunIds") { throw ProtocolError("workflowRunIds names the runs; it cannot be given with label, fromDate or toDate") }
        let count = query.text("count") == nil ? defaultCount : try query.count(maximum: maximumCount)
        var filter = RunFilter(status: .running, limit: count, label: label)
        if let from { filter.createdFrom = try timestamp(from) }
        // The bound is exclusive; toDate is inclusive.
        if let to { filter.createdBefore = try timestamp(to.addingReportingOverflow(1).partialValue) }
        filter.workflow = try single("workflow", query)
        if let url = try single("workflowUrl", query) {
            guard query.text("workflowUrlExactMatch") == "true" else {
                throw ProtocolError("a workflowUrl prefix cannot be given with label, fromDate or toDate; give the exact URL with workflowUrlExactMatch=true")
            }
            filter.endpoint = url
        }
        return filter
    }

    private static func single(_ name: String, _ query: ListingQuery) throws(ProtocolError) -> String? {
        let values = query.texts(name)
        guard values.count <= 1 else { throw ProtocolError("give one value of \(name) with a filter") }
        return values.first
    }

    private static func timestamp(_ milliseconds: Int64) throws(ProtocolError) -> TimestampValue {
        guard let time = TimestampValue(millisecondsSinceEpoch: milliseconds) else {
            throw ProtocolError("fromDate and toDate must be unix milliseconds within the years 1–9999")
        }
        return time
    }

    private static func bodySelection(_ request: Request) async -> Result<RunSelection, ErrorAnswer> {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        guard case .map(let fields) = body else { return .failure(ErrorAnswer(.badRequest, help)) }
        var selection = RunSelection()
        if case .list(let ids)? = fields[.string("workflowRunIds")] { selection.runIds = ids.compactMap(text) }
        if case .string(let name)? = fields[.string("workflow")] { selection.workflows.append(name) }
        switch fields[.string("workflowUrl")] {
        case .string(let url)?:
            selection.workflows += workflowName(url: url).map { [$0] } ?? []
            selection.endpoints.append(url)
        case .list(let urls)?:
            selection.workflows += urls.compactMap(text).compactMap(workflowName(url:))
            selection.endpoints += urls.compactMap(text)
        default: break
        }
        return selection.isEmpty ? .failure(ErrorAnswer(.badRequest, help)) : .success(selection)
    }

    private static func text(_ value: Value) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    private static func workflowName(url: String) -> String? {
        url.split(separator: "?").first?.split(separator: "/").last.map(String.init)
    }
}
