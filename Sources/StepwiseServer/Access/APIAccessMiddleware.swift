import HTTPTypes
import Hummingbird

/// Applies `APIAccess` to every request before it reaches a route (and to unknown paths, so a
/// 404 tells nothing to a caller without the token).
struct APIAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: APIAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = AccessHeaders(
            host: request.head.authority, origin: request.headers[.origin],
            fetchSite: HTTPField.Name.secFetchSite.flatMap { request.headers[$0] }, authorization: request.headers[.authorization],
            queryToken: request.formParameters["qstash_token"].map(String.init),
            sessionId: DashboardSessions.id(inCookieHeader: request.headers[.cookie]),
            repeatsHost: HTTPField.Name.host.flatMap { request.headers[$0] } != nil)
        let token = access.token.current()
        guard let refusal = access.refusal(method: request.method.rawValue, path: request.uri.path, headers: headers, token: token) else {
            return try await next(request, context)
        }
        var response = JSONResponse.error(HTTPResponse.Status(code: refusal.status), refusal.message)
        if refusal.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

extension HTTPField.Name {
    /// `Sec-Fetch-Site`: browsers say there whether a request comes from another site.
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")
    /// `Host`: the first one of a request is its authority; another one stays among the fields.
    static let host = HTTPField.Name("Host")
}
