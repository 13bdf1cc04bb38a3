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

/// One TCP connection to a server on 127.0.0.1, with send and receive timeouts, over plain POSIX
/// sockets so the fuzzer needs no HTTP library (which would refuse to send malformed requests).
struct HTTPConnection: ~Copyable {
    /// What became of a request.
    enum Outcome: Equatable {
        /// The server sent bytes back; the first line of them.
        case answered(String)
        /// The server closed the connection without a word.
        case closed
        /// Nothing within the timeout.
        case silent
        /// No connection could be made.
        case refused
    }

    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port`; `nil` when nothing listens there.
    init?(port: UInt16, timeout: Duration) {
        let descriptor = socket(AF_INET, streamSocket, 0)
        guard descriptor >= 0 else { return nil }
        var interval = timeval(tv_sec: .init(timeout.components.seconds), tv_usec: .init(timeout.components.attoseconds / 1_000_000_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Sends `request`, closes the sending side (so a server waiting for more body sees the end),
    /// and waits for the first bytes of an answer or the connection's end.
    func exchange(_ request: [UInt8]) -> Outcome {
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // A server may answer and close before reading everything; what it said still counts.
            guard written > 0 else { break }
            sent += written
        }
        _ = shutdown(descriptor, Int32(SHUT_WR))
        var buffer = [UInt8](repeating: 0, count: 512)
        let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if received > 0 {
            let firstLine = buffer.prefix(received).prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
            return .answered(String(decoding: firstLine, as: UTF8.self))
        }
        if received == 0 || errno == ECONNRESET { return .closed }
        return .silent
    }
}
