import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A failed request's cause in words an operator reads in a run's error, the message log or the
/// DLQ: a refused connection, an unknown host, a connection closed early. The HTTP client's own
/// descriptions are type names (`SingleConnectionFailure(target: …)`), and one of them repeats the
/// header values it refused, which may be credentials.
public enum TransportErrorText {
    /// The cause of `error`.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return "cannot connect to \(error.host):\(error.port): \(describe(failure.error))" }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve the host name '\(error.host)'" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as SocketAddressError:
            if case .unknown(let host, _) = error { return "cannot resolve the host name '\(host)'" }
            return "the address cannot be used"
        case let error as HTTPClientError:
            return describe(error)
        default:
            return String(describing: error)
        }
    }

    /// The client's short description: its own words, without the values it carries, which can
    /// be a header's value.
    private static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .remoteConnectionClosed: "the connection closed before the whole answer came"
        case .tlsHandshakeTimeout: "no TLS handshake within the timeout"
        default: error.shortDescription.lowercased()
        }
    }
}
