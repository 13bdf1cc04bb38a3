import CoreMetrics
import Metrics
import Hummingbird

/// Counts requests by route and status and times them, through an explicit metrics factory (the
/// server's registry, not a global one). Outermost, so refused requests are counted too.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        let response: Response
        do {
            response = try await next(request, context)
            status = Int(response.status.code)
        } catch {
            record(context, request, status: (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500, since: start)
            throw error
        }
        record(context, request, status: status, since: start)
        return response
    }

    private func record(_ context: Context, _ request: Request, status: Int, since start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("route", route), ("method", request.method.rawValue), ("status", String(status))]
        Counter(label: "stepwise_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "stepwise_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .record(duration: ContinuousClock.now - start)
    }
}
