import Foundation
import Hummingbird
import NIOCore

/// The context of every request the server answers: Hummingbird's own, and the address the
/// request came from, which QStash's APIs record as a message's or run's `callerIp`.
public struct StepwiseRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer of the request's connection (a reverse proxy's, when one stands in front).
    public let remoteAddress: SocketAddress?

    /// The IP address the request came from, as text (`127.0.0.1`, `::1`; `CallerAddress`): the
    /// connection's peer, or the client a trusted proxy names (`ForwardedClientMiddleware`);
    /// `nil` when unknown.
    var callerIp: String?

    /// The context of a request on `source`'s connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        callerIp = remoteAddress.flatMap(CallerAddress.text(of:))
    }

    /// A path parameter with its percent-encoding removed (`go%20a` is the event `go a`).
    func decoded(_ name: String) -> String? {
        parameters.get(name).map { $0.removingPercentEncoding ?? $0 }
    }
}
