import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which runs a bulk cancel (`DELETE /v2/workflows/runs`) takes, as Upstash's clients name them.
/// Anything that would widen it (an empty value, a parameter it does not know, any body beside a
/// selection in the query) is refused rather than read as "any run".
enum RunSelection {
    /// Every running run named: by id, by YAML workflow name, by workflow URL (a prefix, unless
    /// exact; a URL also names the YAML workflow of its last path segment).
    case named(RunNames)
    /// Up to the filter's limit of running runs matching it, as the JS SDK's `client.cancel`
    /// asks (`count`, `label`, `flowControlKey`, `callerIp`, `fromDate`/`toDate`, `workflowUrl`
    /// exact or a prefix, `workflow`).
    case filtered(RunFilter)

    /// Runs named one way or another.
    struct RunNames {
        var runIds: [String] = []
        var workflows: [String] = []
        /// Workflow URLs of SDK runs: prefixes, unless `exactEndpoint`.
        var endpoints: [String] = []
        var exactEndpoint = false
        var isEmpty: Bool { runIds.isEmpty && workflows.isEmpty && endpoints.isEmpty }
    }

    /// The runs one filtered cancel takes without a `count`, as Upstash's client asks by default.
    static let defaultCount = 100
    /// The most runs one filtered cancel takes.
    static let maximumCount = 1_000

    /// The query parameters a bulk cancel reads.
    private static let parameters = ["workflowRunIds", "workflowUrl", "workflowUrlExactMatch", "workflow"] + filters
    private static let filters = ["label", "flowControlKey", "fromDate", "toDate", "count"] + ListingQuery.callerFilters
    private static let help = "name the runs: ?workflowRunIds=…, ?workflowUrl=…, ?label=…, ?flowControlKey=… or ?callerIp=… (with count), ?count=N for any, or a body {\"workflowRunIds\": [...]} or {\"workflow\": \"name\"}"

    /// The selection `request` makes; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<RunSelection, ErrorAnswer> {
        let selection: RunSelection?
        do throws(ProtocolError) {
            selection = try fromQuery(ListingQuery(parameters: request.formParameters))
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
        guard let selection else { return await fromBody(request) }
        // A body beside a selection in the query would be ignored, and the query may take more
        // runs than the body names.
        switch await RequestBody.bytes(request) {
        case .failure(let answer): return .failure(answer)
        case .success(let body) where !body.isEmpty:
            return .failure(ErrorAnswer(.badRequest, "the query selects the runs; send no body with it"))
        case .success: return .success(selection)
        }
    }

    /// The selection of the query; `nil` when it names nothing (the body may).
    private static func fromQuery(_ query: ListingQuery) throws(ProtocolError) -> RunSelection? {
        try query.refuseUnknown(allowed: parameters, in: "a bulk cancel")
        try query.refuseEmpty(parameters)
        let exact = try query.flag("workflowUrlExactMatch") ?? false
        guard !filters.contains(where: { query.text($0) != nil }) else { return .filtered(try filter(query, exact: exact)) }
        var names = RunNames()
        names.runIds = query.texts("workflowRunIds").flatMap { $0.split(separator: ",").map(String.init) }
        let urls = query.urls("workflowUrl")
        names.workflows = urls.compactMap(workflowName(url:)) + query.texts("workflow")
        names.endpoints = urls
        names.exactEndpoint = exact
        return names.isEmpty ? nil : .named(names)
    }

    /// The filter of a query that gives `count`, a label, a flow-control key, a caller or dates.
    private static func filter(_ query: ListingQuery, exact: Bool) throws(ProtocolError) -> RunFilter {
        if !query.texts("workflowRunIds").isEmpty { throw ProtocolError("workflowRunIds names the runs; it cannot be given with label, flowControlKey, callerIp, dates or count") }
        var filter = RunFilter(status: .running, limit: query.text("count") == nil ? defaultCount : try query.count(maximum: maximumCount))
        try query.runMatch(into: &filter)
        (filter.createdFrom, filter.createdBefore) = try query.createdRange()
        filter.workflow = try query.single("workflow")
        let urls = query.urls("workflowUrl")
        if exact { filter.endpoints = urls } else { filter.endpointPrefixes = urls }
        return filter
    }

    private static func fromBody(_ request: Request) async -> Result<RunSelection, ErrorAnswer> {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        guard case .map(let fields) = body else { return .failure(ErrorAnswer(.badRequest, help)) }
        var names = RunNames()
        if let ids = RequestBody.strings(in: body, member: "workflowRunIds") {
            guard !ids.contains("") else { return .failure(ErrorAnswer(.badRequest, "workflowRunIds has an empty id")) }
            names.runIds = ids
        }
        if let name = fields[.string("workflow")].flatMap(nonEmptyText) { names.workflows.append(name) }
        switch fields[.string("workflowUrl")] {
        case .string(let url)? where !url.isEmpty:
            names.workflows += workflowName(url: url).map { [$0] } ?? []
            names.endpoints.append(url)
        case .list(let urls)?:
            let given = urls.compactMap(nonEmptyText)
            names.workflows += given.compactMap(workflowName(url:))
            names.endpoints += given
        default: break
        }
        return names.isEmpty ? .failure(ErrorAnswer(.badRequest, help)) : .success(.named(names))
    }

    private static func nonEmptyText(_ value: Value) -> String? {
        if case .string(let text) = value, !text.isEmpty { return text }
        return nil
    }

    private static func workflowName(url: String) -> String? {
        url.split(separator: "?").first?.split(separator: "/").last.map(String.init)
    }
}
