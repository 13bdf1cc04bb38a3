import Foundation
import NIOSSL
import PostgresNIO

/// TLS to the database as a URL's parameters ask for it (libpq's `sslmode`, `sslrootcert`,
/// `sslcert`, `sslkey`, `sslpassword`), built and checked once at start: a file that cannot be
/// read, a key that does not open or does not match its certificate stops the node there, named.
struct PostgresTLS: Sendable {
    let connection: PostgresConnection.Configuration.TLS
    let client: PostgresClient.Configuration.TLS

    /// TLS as libpq's `sslmode`: `prefer` and `require` encrypt without checking the server's
    /// certificate (self-signed ones are common) unless `sslrootcert` names who may sign it,
    /// `verify-ca` checks its chain against the `sslrootcert` file, `verify-full` its chain and
    /// host name against that file or the system's roots (none given, or `sslrootcert=system`).
    /// As libpq, `verify-ca` needs a file of the user's: against the system's roots, any
    /// certificate a public CA issued for any name would pass. Over a Unix socket PostgreSQL
    /// speaks no TLS: a parameter that asks for it there is refused rather than ignored.
    init(_ parameters: PostgresURLParameters, endpoint: PostgresEndpoint) throws(PostgresStoreError) {
        let mode = parameters.sslMode
        let path = parameters.rootCertificates
        if mode == .disable || endpoint.socketPath != nil {
            try Self.refuseTLSParameters(of: parameters, because: mode == .disable ? "sslmode=disable turns off" : "a Unix socket does not use")
            (connection, client) = (.disable, .disable)
            return
        }
        let system = path == "system"
        guard !system || mode == .verifyFull else {
            throw .badLocation("the PostgreSQL URL's sslrootcert=system needs sslmode=verify-full (as libpq's)")
        }
        guard mode != .verifyCA || (path != nil && !system) else {
            throw .badLocation("sslmode=verify-ca needs sslrootcert, the CA file that signed the server's certificate; verify-full checks the host name against the system's roots")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path, !system { configuration.trustRoots = .certificates(try Self.certificates(in: path, parameter: "sslrootcert")) }
        switch mode {
        case .verifyFull: break
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .disable, .prefer, .require: configuration.certificateVerification = path == nil ? .none : .noHostnameVerification
        }
        if let identity = try ClientIdentity(parameters) {
            configuration.certificateChain = identity.chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(identity.key)
        }
        let context = try Self.context(configuration, clientIdentity: parameters.clientCertificate != nil)
        (connection, client) = mode == .prefer ? (.prefer(context), .prefer(configuration)) : (.require(context), .require(configuration))
    }

    /// With TLS off (`sslmode=disable`, a socket), a parameter about it would be ignored: refused.
    private static func refuseTLSParameters(of parameters: PostgresURLParameters, because reason: String) throws(PostgresStoreError) {
        let given = [
            ("sslrootcert", parameters.rootCertificates), ("sslcert", parameters.clientCertificate), ("sslkey", parameters.clientKey),
            ("sslpassword", parameters.clientKeyPassword),
        ].filter { $0.1 != nil }.map(\.0)
        if let first = given.first { throw .badLocation("the PostgreSQL URL's \(first) needs TLS, which \(reason)") }
        guard [.disable, .prefer].contains(parameters.sslMode) else {
            throw .badLocation("sslmode=\(parameters.sslMode.rawValue) needs TLS, which \(reason): connect by host name or address instead")
        }
    }

    static func certificates(in path: String, parameter: String) throws(PostgresStoreError) -> [NIOSSLCertificate] {
        // A pipe would block the start until something wrote to it.
        guard FileManager.default.isReadableFile(atPath: path), regularFile(at: path) != nil else {
            throw .badLocation("the PostgreSQL URL's \(parameter) file \(path.debugDescription) cannot be read")
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
            throw .badLocation("the PostgreSQL URL's \(parameter) file \(path.debugDescription) holds no PEM certificate")
        }
        return certificates
    }

    /// The status of the regular file at `path`, following links (a Kubernetes secret's files and
    /// the system's CA files are links); `nil` for anything else, or nothing.
    static func regularFile(at path: String) -> stat? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return info
    }

    private static func context(_ configuration: TLSConfiguration, clientIdentity: Bool) throws(PostgresStoreError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            let hint = clientIdentity ? " (does the sslkey belong to the sslcert's certificate?)" : ""
            throw .badLocation("TLS for PostgreSQL could not be set up\(hint): \(error)")
        }
    }
}
