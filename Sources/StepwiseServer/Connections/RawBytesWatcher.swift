import NIOCore

/// The first handler of a connection: tells `ConnectionDeadline` when bytes arrive, before the
/// HTTP parser sees them, so that a head sent byte by byte is timed from its first byte, and when
/// the client stops or starts again reading what it is sent.
final class RawBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let deadline: ConnectionDeadline

    init(deadline: ConnectionDeadline) {
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { deadline.opened(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        deadline.opened(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline.bytesArrived(on: context.channel)
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        deadline.writabilityChanged(on: context.channel)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.closed(context.channel)
        context.fireChannelInactive()
    }
}
