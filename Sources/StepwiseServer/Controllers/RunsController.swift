import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Stepwise's read API: `GET /api/runs` (newest first, cursor paging) and `GET /api/runs/{id}`.
struct RunsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let runs = router.group("api/runs")
        runs.get { request, _ in await listRuns(request) }
        runs.get(":id") { _, context in await showRun(context) }
    }

    /// The parameters of `GET /api/runs` that take one value.
    private static let singleValued = ["workflow", "status", "limit", "from", "to", "cursor"]

    private func listRuns(_ request: Request) async -> Response {
        let query = request.formParameters
        var filter = RunFilter()
        // Each of these takes one value: given twice, it is refused rather than the first kept.
        var given: [String: String] = [:]
        do throws(ProtocolError) {
            let listing = ListingQuery(parameters: query)
            for name in Self.singleValued { given[name] = try listing.single(name) }
            try listing.runMatch(into: &filter)
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        filter.workflow = given["workflow"]
        if let status = given["status"] {
            guard let parsed = RunStatus(rawValue: String(status)) else {
                return JSONResponse.error(.badRequest, "unknown status '\(status)'; use running, succeeded, failed or canceled")
            }
            filter.status = parsed
        }
        if let limit = given["limit"] {
            guard let parsed = Int(limit), (1...1000).contains(parsed) else {
                return JSONResponse.error(.badRequest, "limit must be a number from 1 to 1000")
            }
            filter.limit = parsed
        }
        for (name, keyPath) in [("from", \RunFilter.createdFrom), ("to", \RunFilter.createdBefore)] {
            guard let text = given[name] else { continue }
            guard let time = try? TimestampValue(parsing: String(text)) else {
                return JSONResponse.error(.badRequest, "\(name) must be a timestamp such as 2026-12-03T18:00:00Z")
            }
            filter[keyPath: keyPath] = time
        }
        if let cursor = given["cursor"] {
            guard let parsed = PageCursor(text: String(cursor)) else {
                return JSONResponse.error(.badRequest, "cursor is not one this API gave out; pass the `cursor` of the previous page as it is")
            }
            filter.after = parsed
        }
        do {
            let runs = try await engine.store.runs(filter)
            let next: Value = runs.count == filter.limit ? runs.last.map { .string(PageCursor(after: $0).text) } ?? .null : .null
            return JSONResponse.make(.ok, ["runs": .list(runs.map(RunView.summary)), "cursor": next])
        } catch {
            return failures.answer("cannot list runs", error)
        }
    }

    private func showRun(_ context: StepwiseRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        do {
            guard let run = try await engine.store.run(id: id) else { return JSONResponse.error(.notFound, "no run with id '\(id)'") }
            let progress = try await engine.store.progress(runId: id)
            let log = run.endpoint == nil ? [] : try await engine.store.runLog(runId: id, through: nil)
            let attempts = try await engine.store.attempts(runId: id)
            let waits = try await engine.pendingWaits(runId: id, pending: progress.pending)
            return JSONResponse.make(.ok, RunView.detail(run, progress: progress, log: log, attempts: attempts, waits: waits))
        } catch {
            return failures.answer("cannot read run '\(id)'", error)
        }
    }
}
