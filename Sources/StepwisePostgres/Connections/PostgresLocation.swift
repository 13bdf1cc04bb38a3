import Foundation
import Logging
import PostgresNIO

/// Where the database is: a `postgres://` URL read into the parts a connection needs. Its
/// password never appears in an error or a description.
public struct PostgresLocation: Sendable, CustomStringConvertible, CustomReflectable {
    /// Where connections go: a host and port, or a Unix-domain socket.
    public let endpoint: PostgresEndpoint
    public let user: String
    let password: String?
    public let database: String
    let tls: PostgresTLS
    let parameters: PostgresURLParameters

    /// Connections of the store's pool (`pool_max_conns`, 16 unless the URL says otherwise).
    public var poolSize: Int { parameters.poolSize }

    /// Reads `url`: `postgres://user[:password]@host[:port]/database[?parameter=value&…]`, the
    /// parameters those of `PostgresURLParameters` (where: `host`, `port`; TLS, client
    /// certificates, the application's name, the connect timeout, the pool's size); any other is
    /// refused. A host that is a path (`%2Fvar%2Frun%2Fpostgresql`, or `?host=/var/run/postgresql`)
    /// is the directory of the server's Unix-domain socket; no host at all is Debian's socket
    /// directory, as libpq's.
    public init(url: String) throws(PostgresStoreError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw .badLocation("the store must be a URL like postgres://user:password@host:5432/database")
        }
        guard let user = components.user, !user.isEmpty else { throw .badLocation("the PostgreSQL URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .badLocation("the PostgreSQL URL names no database (…/database)") }
        parameters = try PostgresURLParameters(components.queryItems ?? [])
        let port = parameters.port ?? components.port ?? 5432
        // The connection would take a larger port modulo 65536 and reach another server.
        guard PostgresURLParameters.ports.contains(port) else {
            throw .badLocation("the PostgreSQL URL's port \(port) is not a number from 1 to 65535")
        }
        let host = Self.address(parameters.host ?? components.host) ?? PostgresEndpoint.defaultSocketDirectory
        endpoint = PostgresEndpoint(host: host, port: port)
        tls = try PostgresTLS(parameters, endpoint: endpoint)
        // URLComponents has already decoded percent-escapes in the user and the password.
        self.user = user
        self.password = components.password
        self.database = database
    }

    /// The URL's host as a connection takes it: an IPv6 address without the brackets a URL puts
    /// around it; `nil` when the URL names none.
    private static func address(_ host: String?) -> String? {
        guard let host, !host.isEmpty else { return nil }
        guard host.hasPrefix("["), host.hasSuffix("]") else { return host }
        return String(host.dropFirst().dropLast())
    }

    /// The configuration of a connection pool to this database.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration =
            switch endpoint {
            case .network(let host, let port):
                PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls.client)
            case .socket(let directory, let port):
                PostgresClient.Configuration(
                    unixSocketPath: PostgresEndpoint.socketFile(in: directory, port: port), username: user, password: password, database: database)
            }
        configuration.options.connectTimeout = parameters.connectTimeout
        configuration.options.additionalStartupParameters = startupParameters
        configuration.options.maximumConnections = parameters.poolSize
        return configuration
    }

    /// What a new connection tells the server beside its user and database.
    private var startupParameters: [(String, String)] {
        parameters.applicationName.isEmpty ? [] : [("application_name", parameters.applicationName)]
    }

    /// The server and database in words for an error, without the password:
    /// `user sw at 127.0.0.1:5432, database swdb`.
    public var named: String { "user \(user) at \(endpoint.named), database \(database)" }

    /// The server and database, as `named`: never the password.
    public var description: String { named }

    /// `dump` and debuggers show the description, never the password.
    public var customMirror: Mirror { Mirror(self, children: ["location": named, "password": "redacted"]) }

    /// Opens one connection to `database` on this server (this location's own by default).
    public func connect(to database: String? = nil, logger: Logger) async throws -> PostgresConnection {
        var configuration =
            switch endpoint {
            case .network(let host, let port):
                PostgresConnection.Configuration(
                    host: host, port: port, username: user, password: password, database: database ?? self.database, tls: tls.connection)
            case .socket(let directory, let port):
                PostgresConnection.Configuration(
                    unixSocketPath: PostgresEndpoint.socketFile(in: directory, port: port), username: user, password: password, database: database ?? self.database)
            }
        configuration.options.connectTimeout = .seconds(parameters.connectTimeout.components.seconds)
        configuration.options.additionalStartupParameters = startupParameters
        return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    }
}
