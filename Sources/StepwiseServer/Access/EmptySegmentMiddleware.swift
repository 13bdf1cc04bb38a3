import Hummingbird

/// Refuses an API path with an empty segment (`/v2/messages/`, `/v2/notify//event`) before
/// routing. The router skips empty segments, so a path whose id was left out would reach the
/// route of the same path without it: a single message's cancel would cancel every message, a
/// notify of one run would wake every waiter. A destination URL at the end of a publish keeps its
/// own slashes.
struct EmptySegmentMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard EmptyPathSegment.isIn(path, method: request.method.rawValue) else { return try await next(request, context) }
        return JSONResponse.error(.notFound, "'\(path)' has an empty segment: an id or a name is missing")
    }
}
