import Hummingbird

/// Answers a request that no route takes (an unknown path, a method a path does not serve, a
/// publish without its destination) with a JSON error naming the method and path, as every other
/// error is answered, rather than the router's empty 404. The query is left out: it may hold a
/// token (`?qstash_token=`).
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            return JSONResponse.error(
                .notFound, "no route takes \(request.method.rawValue) \(request.uri.path): check the method and the path (the README lists the API)")
        }
    }
}
