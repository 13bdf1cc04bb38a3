import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where the database is: a `postgres://` URL read into the parts a connection needs. Its
/// password never appears in an error or a description.
public struct PostgresLocation: Sendable, CustomStringConvertible, CustomReflectable {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String
    let tls: PostgresConnection.Configuration.TLS
    let clientTLS: PostgresClient.Configuration.TLS
    let parameters: PostgresURLParameters

    /// Connections of the store's pool (`pool_max_conns`, 16 unless the URL says otherwise).
    public var poolSize: Int { parameters.poolSize }

    /// Reads `url`: `postgres://user[:password]@host[:port]/database[?parameter=value&…]`, the
    /// parameters those of `PostgresURLParameters` (TLS, the application's name, the connect
    /// timeout, the pool's size); any other is refused.
    public init(url: String) throws(PostgresStoreError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw .badLocation("the store must be a URL like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else { throw .badLocation("the PostgreSQL URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw .badLocation("the PostgreSQL URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .badLocation("the PostgreSQL URL names no database (…/database)") }
        parameters = try PostgresURLParameters(components.queryItems ?? [])
        (tls, clientTLS) = try Self.tls(mode: parameters.sslMode, rootCertificates: parameters.rootCertificates)
        self.host = host
        let port = components.port ?? 5432
        // The connection would take a larger port modulo 65536 and reach another server.
        guard (1...65535).contains(port) else { throw .badLocation("the PostgreSQL URL's port \(port) is not a number from 1 to 65535") }
        self.port = port
        // URLComponents has already decoded percent-escapes in the user and the password.
        self.user = user
        self.password = components.password
        self.database = database
    }

    /// TLS as libpq's `sslmode`: `prefer` and `require` encrypt without checking the server's
    /// certificate (self-signed ones are common) unless `sslrootcert` names who may sign it,
    /// `verify-ca` checks its chain against the `sslrootcert` file, `verify-full` its chain and
    /// host name against that file or the system's roots (none given, or `sslrootcert=system`).
    /// As libpq, `verify-ca` needs a file of the user's: against the system's roots, any
    /// certificate a public CA issued for any name would pass.
    private static func tls(mode: PostgresURLParameters.SSLMode, rootCertificates path: String?) throws(PostgresStoreError)
        -> (PostgresConnection.Configuration.TLS, PostgresClient.Configuration.TLS)
    {
        if mode == .disable {
            guard path == nil else { throw .badLocation("the PostgreSQL URL's sslrootcert needs TLS, which sslmode=disable turns off") }
            return (.disable, .disable)
        }
        let system = path == "system"
        guard !system || mode == .verifyFull else {
            throw .badLocation("the PostgreSQL URL's sslrootcert=system needs sslmode=verify-full (as libpq's)")
        }
        guard mode != .verifyCA || (path != nil && !system) else {
            throw .badLocation("sslmode=verify-ca needs sslrootcert, the CA file that signed the server's certificate; verify-full checks the host name against the system's roots")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path, !system { configuration.trustRoots = .certificates(try certificates(in: path)) }
        switch mode {
        case .verifyFull: break
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .disable, .prefer, .require: configuration.certificateVerification = path == nil ? .none : .noHostnameVerification
        }
        let context = try tlsContext(configuration)
        return mode == .prefer ? (.prefer(context), .prefer(configuration)) : (.require(context), .require(configuration))
    }

    private static func certificates(in path: String) throws(PostgresStoreError) -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .badLocation("the PostgreSQL URL's sslrootcert file \(path.debugDescription) cannot be read")
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
            throw .badLocation("the PostgreSQL URL's sslrootcert file \(path.debugDescription) holds no PEM certificate")
        }
        return certificates
    }

    private static func tlsContext(_ configuration: TLSConfiguration) throws(PostgresStoreError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .badLocation("TLS for PostgreSQL could not be set up: \(error)")
        }
    }

    /// The configuration of a connection pool to this database.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
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
    public var named: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return "user \(user) at \(address):\(port), database \(database)"
    }

    /// The server and database, as `named`: never the password.
    public var description: String { named }

    /// `dump` and debuggers show the description, never the password.
    public var customMirror: Mirror { Mirror(self, children: ["location": named, "password": "redacted"]) }

    /// Opens one connection to `database` on this server (this location's own by default).
    public func connect(to database: String? = nil, logger: Logger) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database ?? self.database, tls: tls)
        configuration.options.connectTimeout = .seconds(parameters.connectTimeout.components.seconds)
        configuration.options.additionalStartupParameters = startupParameters
        return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    }
}
