import CoreMetrics
import Metrics
import Hummingbird
import StepwiseEngine

/// Counts requests by route and status and times them, through an explicit metrics factory (the
/// server's registry, not a global one). Outermost, so refused requests are counted too.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let handles: MetricHandles

    static var requests: String { "stepwise_http_requests_total" }
    static var duration: String { "stepwise_http_request_duration_seconds" }

    /// What each metric of this middleware measures, its `# HELP`.
    static var descriptions: [String: String] {
        [
            requests: "HTTP requests by route pattern, method and status, refused ones included.",
            duration: "How long HTTP requests took, by route pattern.",
        ]
    }

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
        let route = Self.routeName(context.endpointPath)
        let dimensions = [("route", route), ("method", Self.methodName(request.method)), ("status", String(status))]
        handles.counter(Self.requests, dimensions).increment()
        handles.timer(Self.duration, [("route", route)]).record(duration: ContinuousClock.now - start)
    }

    /// The route as a dimension: its pattern, or `unmatched` for a path no route serves (the
    /// middleware refused it first, or Hummingbird's router found nothing and named it `NotFound`).
    static func routeName(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }

    /// The method as a dimension: a method outside HTTP's usual ones is `other`, so that a client
    /// inventing methods cannot add series to the registry without end.
    static func methodName(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .delete, .patch, .options: method.rawValue
        default: "other"
        }
    }
}
