import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel with `ConnectionLimits`' timeouts: each connection gets a
/// `ConnectionDeadline` watched from both sides of the HTTP parser (raw bytes before it, parsed
/// parts after it), which Hummingbird's own idle timeout cannot do (it sees parsed parts only, so
/// a body sent a byte at a time kept a connection forever).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let reclaimable: ReclaimableConnections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let deadline = NIOLoopBound(ConnectionDeadline(limits: limits, reclaimable: reclaimable), eventLoop: channel.eventLoop)
        do {
            try channel.pipeline.syncOperations.addHandler(RawBytesWatcher(deadline: deadline.value))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let watcher = NIOLoopBound(RequestPartsWatcher(deadline: deadline.value), eventLoop: channel.eventLoop)
        let inner = HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [watcher.value]))
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// A server's connections under `ConnectionLimits`: the HTTP/1.1 channel with its timeouts, and
/// the count of open connections (the application's `availableConnectionsDelegate`), which
/// share the connections idling between requests.
struct GuardedConnections {
    let server: HTTPServerBuilder
    let count: ConnectionCount

    init(_ limits: ConnectionLimits) {
        let reclaimable = ReclaimableConnections()
        server = HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits, reclaimable: reclaimable) }
        count = ConnectionCount(maximum: limits.maximumConnections, reclaimable: reclaimable)
    }
}
