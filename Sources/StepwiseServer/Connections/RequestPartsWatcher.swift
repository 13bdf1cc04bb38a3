import NIOCore
import NIOHTTPTypes

/// Sits after the HTTP parser: tells `ConnectionDeadline` when a request's head is parsed, when
/// its body ends, and when the response to it has been written.
final class RequestPartsWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let deadline: ConnectionDeadline

    init(deadline: ConnectionDeadline) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadline.headParsed(on: context.channel)
        case .body: break
        case .end: deadline.requestEnded(on: context.channel)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        deadline.responseEnded(on: context.channel)
        let written = promise ?? context.eventLoop.makePromise()
        let channel = context.channel
        written.futureResult.assumeIsolated().whenSuccess { [deadline] _ in deadline.responseWritten(on: channel) }
        context.write(data, promise: written)
    }
}
