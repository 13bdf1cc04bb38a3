/// Where connections to the database go: a host and port over TCP, or the Unix-domain socket a
/// server on the same machine listens on in a directory (libpq's `host=/var/run/postgresql`).
public enum PostgresEndpoint: Sendable, Equatable {
    /// A host name or address (IPv6 without brackets) and a TCP port.
    case network(host: String, port: Int)
    /// The socket `.s.PGSQL.<port>` in `directory`, as PostgreSQL names it.
    case socket(directory: String, port: Int)

    /// The directory libpq as Debian builds it looks in when a URL names no host.
    static let defaultSocketDirectory = "/var/run/postgresql"

    /// The endpoint of a URL's host (an address, a name, or a socket's directory when it starts
    /// with `/`) and port.
    init(host: String, port: Int) {
        self = host.hasPrefix("/") ? .socket(directory: host, port: port) : .network(host: host, port: port)
    }

    /// The socket's file, for a socket.
    public var socketPath: String? {
        guard case .socket(let directory, let port) = self else { return nil }
        return Self.socketFile(in: directory, port: port)
    }

    /// The file of the socket for `port` in `directory`.
    static func socketFile(in directory: String, port: Int) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    /// The endpoint in words: `127.0.0.1:5432`, `[::1]:5432`, or `socket /var/run/postgresql/.s.PGSQL.5432`.
    public var named: String {
        switch self {
        case .network(let host, let port): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .socket(let directory, let port): "socket \(Self.socketFile(in: directory, port: port))"
        }
    }
}
