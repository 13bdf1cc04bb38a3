import Hummingbird

/// Answers `HEAD` wherever `GET` is served, as HTTP requires of every server: the request goes
/// to `base` (the router) as a `GET`, through the same access checks to the same status and
/// headers, and the answer keeps its headers, `Content-Length` included, without the body.
/// Uptime monitors and load balancers' health checks use `HEAD`. It wraps the router rather than
/// being one of its middlewares because the router picks a route by method before those run.
struct HeadRequestResponder<Base: HTTPResponder>: HTTPResponder {
    let base: Base

    init(_ base: Base) {
        self.base = base
    }

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        // An answer whose length is unknown (a stream) says it has none, so that the connection
        // is not framed for a body that is never sent.
        let length = response.headers[.contentLength] ?? response.body.contentLength.map(String.init) ?? "0"
        response.body = ResponseBody()
        response.headers[.contentLength] = length
        return response
    }
}
