import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc

/// `SOCK_STREAM` as `socket` takes it: Glibc's is an enum case.
private let streamSocket = Int32(SOCK_STREAM.rawValue)
/// `SHUT_RDWR` as `shutdown` takes it.
private let bothWays = Int32(SHUT_RDWR)
#elseif canImport(Darwin)
import Darwin

private let streamSocket = SOCK_STREAM
private let bothWays = SHUT_RDWR
#endif

/// A TCP hop on 127.0.0.1 in front of a server on 127.0.0.1 (a database), which a test takes down
/// and brings back to cut a store off from its database as an outage would: `stop` closes the
/// listener and every connection through it, `start` listens again on the same port; `freeze`
/// holds every byte without closing anything, as a stopped server or a route dropped without a
/// reset would. Its threads are its own: a forwarder on the cooperative pool stalled past the
/// database driver's connect timeout while the whole suite kept that pool busy.
public final class TCPForwarder: Sendable {
    private struct State {
        var listener: Int32 = -1
        var port = 0
        var frozen = false
        var connections: Set<Int32> = []
    }

    private let targetPort: Int
    private let state = Mutex(State())

    /// A forwarder to `port` on 127.0.0.1, not yet listening.
    public init(toPort port: Int) {
        targetPort = port
    }

    /// The port clients connect to; chosen by the first `start`, kept by later ones.
    public var port: Int { state.withLock { $0.port } }

    /// Listens (on the port of the previous `start`, if any) and forwards every connection until `stop`.
    public func start() throws {
        let listener = socket(AF_INET, streamSocket, 0)
        guard listener >= 0 else { throw WaitTimeout(description: "no socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw WaitTimeout(description: "cannot listen on 127.0.0.1:\(port): errno \(errno)")
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        state.withLock {
            $0.listener = listener
            $0.port = Int(UInt16(bigEndian: local.sin_port))
        }
        Thread.detachNewThread { self.acceptConnections(on: listener) }
    }

    /// Holds (`true`) or passes again (`false`) the bytes of every connection, open or new.
    public func freeze(_ holding: Bool) {
        state.withLock { $0.frozen = holding }
    }

    /// Closes the listener and every connection through it (and lets held bytes go, to nowhere).
    public func stop() {
        let (listener, connections) = state.withLock { state in
            defer {
                state.listener = -1
                state.frozen = false
            }
            return (state.listener, state.connections)
        }
        // Shut down, not closed: the threads blocked on them return and close them once.
        if listener >= 0 { shutdown(listener, bothWays) }
        for connection in connections { shutdown(connection, bothWays) }
    }

    private func acceptConnections(on listener: Int32) {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0, errno == EINTR { continue }
            guard client >= 0, state.withLock({ $0.listener == listener }) else {
                if client >= 0 { close(client) }
                return
            }
            let upstream = socket(AF_INET, streamSocket, 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard upstream >= 0, connected == 0 else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            state.withLock { $0.connections.formUnion([client, upstream]) }
            let pair = ConnectionPair()
            Thread.detachNewThread { self.copy(from: client, to: upstream, pair) }
            Thread.detachNewThread { self.copy(from: upstream, to: client, pair) }
        }
    }

    /// Copies until either side closes, then shuts both down; the last of the pair's two copies closes them.
    private func copy(from source: Int32, to destination: Int32, _ pair: ConnectionPair) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        copying: while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            while state.withLock({ $0.frozen }) { usleep(20_000) }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { raw in send(destination, raw.baseAddress.map { $0 + sent }, count - sent, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { break copying }
                sent += written
            }
        }
        shutdown(source, bothWays)
        shutdown(destination, bothWays)
        guard pair.finishOne() else { return }
        state.withLock { $0.connections.subtract([source, destination]) }
        close(source)
        close(destination)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// The two copies of one forwarded connection: the second to finish closes its sockets.
private final class ConnectionPair: Sendable {
    private let running = Mutex(2)

    /// Notes that one copy ended; true for the last one.
    func finishOne() -> Bool {
        running.withLock { count in
            count -= 1
            return count == 0
        }
    }
}
