import HTTPTypes
import Hummingbird

/// Records a request from a trusted reverse proxy as its client's (`TrustedProxies`), so that
/// the `callerIp` of what it publishes or triggers names the client, not the proxy.
struct ForwardedClientMiddleware: RouterMiddleware {
    let proxies: TrustedProxies

    func handle(
        _ request: Request, context: StepwiseRequestContext, next: (Request, StepwiseRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let forwardedFor = HTTPField.Name.xForwardedFor.map { request.headers[values: $0] } ?? []
        context.callerIp = proxies.client(of: context.remoteAddress, forwardedFor: forwardedFor)
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`: the addresses a request passed through, the client's first.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")
}
