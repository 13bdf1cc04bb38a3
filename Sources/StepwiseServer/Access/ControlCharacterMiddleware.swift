import Foundation
import Hummingbird
import StepwiseExpressions

/// Refuses an API or trigger request whose routed path or query holds a control character (`%00`–`%1F`,
/// `%7F`) with a 400 before routing. No id, name or filter may hold one: PostgreSQL cannot store a
/// NUL, a line break would forge lines of a text log, and workflows refuse such event names. A
/// destination URL at the end of a publish keeps its own encoding and query, and a webhook's
/// query is its caller's (a third party's form fields may hold line breaks).
struct ControlCharacterMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard ["/v2/", "/api/", "/workflows/"].contains(where: path.hasPrefix) else { return try await next(request, context) }
        let routed = EmptyPathSegment.routedPart(of: path, method: request.method.rawValue)
        // Each segment is decoded on its own, as routes decode them: one bad escape must not
        // leave the others unchecked.
        var checked = routed.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let queryIsTheAPIs = routed.count == path.count && !path.hasPrefix(WebhookController.pathPrefix)
        if queryIsTheAPIs { checked += request.formParameters.flatMap { [String($0.key), String($0.value)] } }
        guard checked.contains(where: \.containsControlCharacter) else {
            return try await next(request, context)
        }
        return JSONResponse.error(.badRequest, "the path or the query holds a control character (%00 to %1F, %7F), which no id, name or filter may hold")
    }
}
