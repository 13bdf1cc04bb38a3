import NIOCore
import NIOPosix
import Synchronization

/// A TCP hop on 127.0.0.1 in front of a server (a database), which a test takes down and brings
/// back to cut a store off from its database as an outage would: `stop` closes the listener and
/// every connection through it, `start` listens again on the same port; `freeze` holds every
/// byte without closing anything, as a stopped server or a route dropped without a reset would.
public actor TCPForwarder {
    private let targetHost: String
    private let targetPort: Int
    private let frozen = Freeze()
    /// The port clients connect to; chosen by the first `start`, kept by later ones.
    public private(set) var port = 0
    private var serving: Task<Void, Never>?

    /// A forwarder to `host`:`port`, not yet listening.
    public init(to host: String, port: Int) {
        targetHost = host
        targetPort = port
    }

    /// Listens and forwards every connection until `stop`.
    public func start() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        port = server.channel.localAddress?.port ?? 0
        serving = Task { [targetHost, targetPort, frozen] in
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await Self.forward(connection, to: targetHost, targetPort, holdingWhile: frozen) }
                    }
                }
            }
        }
    }

    /// Holds (`true`) or passes again (`false`) the bytes of every connection, open or new.
    public func freeze(_ holding: Bool) {
        frozen.holding = holding
    }

    /// Closes the listener and every connection through it.
    public func stop() async {
        serving?.cancel()
        await serving?.value
        serving = nil
    }

    private static func forward(
        _ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, to host: String, _ port: Int, holdingWhile frozen: Freeze
    ) async {
        let upstream: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        } catch {
            try? await client.channel.close()
            return
        }
        try? await client.executeThenClose { clientInbound, clientOutbound in
            try await upstream.executeThenClose { upstreamInbound, upstreamOutbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await copy(clientInbound, to: upstreamOutbound, holdingWhile: frozen) }
                    group.addTask { try await copy(upstreamInbound, to: clientOutbound, holdingWhile: frozen) }
                    // Either side closing ends the pair, as a dropped route would.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    private static func copy(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, holdingWhile frozen: Freeze
    ) async throws {
        for try await bytes in inbound {
            while frozen.holding { try await Task.sleep(for: .milliseconds(20)) }
            try await outbound.write(bytes)
        }
    }
}

/// Whether a forwarder holds its bytes, shared by its connections' copying tasks.
private final class Freeze: Sendable {
    private let state = Mutex(false)

    var holding: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
