import Foundation

#if canImport(Glibc)
import Glibc

/// `SOCK_STREAM` as `socket` takes it: Glibc's is an enum case.
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin

/// `SOCK_STREAM` as `socket` takes it: Darwin's is a plain `Int32`.
private let streamSocket = SOCK_STREAM
#endif

/// A plain TCP connection to 127.0.0.1, for requests no HTTP client would send (forged `Host`,
/// malformed framing, slow or idle clients, another loopback address than 127.0.0.1 as the
/// client's). Reads wait at most `readTimeout`, on a thread of their own (the server under test
/// needs the shared ones).
public final class RawConnection: Sendable {
    private let descriptor: Int32

    /// Connects to `port` on 127.0.0.1 from `source` (an IPv4 loopback address; any port);
    /// throws when `source` cannot be bound (`canBind`) or nothing listens.
    public init(port: Int, from source: String = "127.0.0.1", readTimeout: Duration = .seconds(5)) throws {
        descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { throw WaitTimeout(description: "no socket: errno \(errno)") }
        // A failed step leaves the socket to deinit, which closes it once.
        if source != "127.0.0.1" {
            guard Self.bound(descriptor, to: source) else { throw WaitTimeout(description: "cannot bind to \(source): errno \(errno)") }
        }
        var address = Self.address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw WaitTimeout(description: "cannot connect to 127.0.0.1:\(port): errno \(errno)") }
        let (seconds, attoseconds) = readTimeout.components
        var timeout = timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Whether a connection can come from `source` on this machine: Linux routes all of
    /// 127.0.0.0/8 to loopback, macOS only 127.0.0.1 unless an alias is added.
    public static func canBind(_ source: String) -> Bool {
        let probe = socket(AF_INET, streamSocket, 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return bound(probe, to: source)
    }

    /// Whether `descriptor` was bound to `source`, any port.
    private static func bound(_ descriptor: Int32, to source: String) -> Bool {
        var local = address(source, port: 0)
        return withUnsafePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func address(_ text: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(text)
        return address
    }

    /// Sends `text` as it is; false when the connection no longer takes data.
    @discardableResult
    public func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads until the peer closes the connection or the read timeout passes; what arrived, and
    /// whether the peer closed.
    public func readAll() async -> (text: String, closed: Bool) {
        (try? await onOwnThread { self.readBlocking { _ in false } }) ?? ("", false)
    }

    /// Reads one response framed by `Content-Length`, stopping as soon as it is complete, the
    /// peer closes, or the read timeout passes; what arrived, and whether the peer closed. A
    /// client that reads this way leaves the connection idle for no longer than the server takes.
    public func readResponse() async -> (text: String, closed: Bool) {
        (try? await onOwnThread { self.readBlocking(until: Self.isCompleteResponse) }) ?? ("", false)
    }

    /// Sends `request` from `source` and reads the answer until the server closes or the read
    /// timeout passes.
    public static func exchange(_ request: String, port: Int, from source: String = "127.0.0.1") async -> String {
        guard let connection = try? RawConnection(port: port, from: source) else { return "" }
        connection.write(request)
        return await connection.readAll().text
    }

    private func readBlocking(until complete: ([UInt8]) -> Bool) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
                if complete(received) { return (String(decoding: received, as: UTF8.self), false) }
                continue
            }
            // A signal (a test's child process ending) interrupts the wait; it is no timeout.
            if count < 0, errno == EINTR { continue }
            return (String(decoding: received, as: UTF8.self), count == 0 || errno == ECONNRESET)
        }
    }

    /// Whether `bytes` hold a whole response head and the `Content-Length` bytes of body after it.
    private static func isCompleteResponse(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return text[end.upperBound...].utf8.count >= length
    }

    /// The status code of the first response in `text`, if any.
    public static func status(of text: String) -> Int? {
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}
