import Foundation

/// The parameters of a `postgres://` URL (after `?`), read and checked. A parameter Stepwise does
/// not read, one given twice, or a value out of range is refused by name: ignored, a
/// `target_session_attrs` or a misspelt `sslmode` would leave the user believing it applied.
/// Values are never repeated in an error except `sslmode`'s, which cannot be a secret.
struct PostgresURLParameters: Sendable, CustomReflectable {
    /// Every parameter read, in the order the error lists them.
    static let names = [
        "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "application_name", "connect_timeout", "pool_max_conns",
    ]
    static let poolSizes = 1...1000
    static let connectTimeouts = 1...3600
    static let ports = 1...65535

    /// libpq's TLS modes, of which Stepwise knows all but `allow`.
    enum SSLMode: String, CaseIterable, Sendable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// `host`: a host name or address, or a directory holding the server's Unix-domain socket (a
    /// path, as libpq's); it takes the place of the URL's host.
    var host: String?
    /// `port`: it takes the place of the URL's port (also the number in a socket's file name).
    var port: Int?
    /// `sslmode`: `prefer` unless the URL says otherwise, as libpq's.
    var sslMode = SSLMode.prefer
    /// `sslrootcert`: a PEM file of the certificates that may sign the server's, or `system`
    /// (the system's roots, with `verify-full` only).
    var rootCertificates: String?
    /// `sslcert` and `sslkey`: the PEM files of the client certificate (and its chain) and its
    /// private key that the node presents, for a server that authenticates by certificate.
    var clientCertificate: String?
    var clientKey: String?
    /// `sslpassword`: the passphrase of an encrypted `sslkey`; a secret, as the URL's password.
    var clientKeyPassword: String?
    /// `application_name`: what `pg_stat_activity` shows for the node's connections.
    var applicationName = "stepwise"
    /// `connect_timeout` (whole seconds, as libpq's): how long opening one connection may take.
    var connectTimeout = Duration.seconds(10)
    /// `pool_max_conns` (pgx's name): connections the store's pool opens at most, beside the one
    /// each node listens on.
    var poolSize = 16

    init(_ items: [URLQueryItem]) throws(PostgresStoreError) {
        var seen: Set<String> = []
        for item in items {
            guard Self.names.contains(item.name) else {
                throw .badLocation(
                    "the PostgreSQL URL's parameter \(item.name.debugDescription) is not one Stepwise reads (\(Self.names.joined(separator: ", ")))")
            }
            guard seen.insert(item.name).inserted else { throw .badLocation("the PostgreSQL URL gives \(item.name) twice") }
            try read(item.name, item.value ?? "")
        }
    }

    private mutating func read(_ name: String, _ value: String) throws(PostgresStoreError) {
        switch name {
        case "sslmode":
            guard let mode = SSLMode(rawValue: value) else {
                throw .badLocation("sslmode '\(value)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        case "host":
            guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .badLocation("the PostgreSQL URL's host parameter must name a host or a socket's directory, without control characters")
            }
            host = value
        case "port": port = try Self.whole(name, value, in: Self.ports, unit: "")
        case "sslrootcert": rootCertificates = try Self.file(name, value)
        case "sslcert": clientCertificate = try Self.file(name, value)
        case "sslkey": clientKey = try Self.file(name, value)
        case "sslpassword": clientKeyPassword = value
        case "application_name":
            // PostgreSQL keeps 63 bytes of it; a control character would reach its log lines.
            guard value.utf8.count <= 63, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .badLocation("the PostgreSQL URL's application_name must be at most 63 bytes without control characters")
            }
            applicationName = value
        case "connect_timeout": connectTimeout = .seconds(try Self.whole(name, value, in: Self.connectTimeouts, unit: " seconds"))
        default: poolSize = try Self.whole(name, value, in: Self.poolSizes, unit: "")
        }
    }

    private static func file(_ name: String, _ value: String) throws(PostgresStoreError) -> String {
        guard !value.isEmpty else { throw .badLocation("the PostgreSQL URL's \(name) names no file") }
        return value
    }

    /// `dump` and debuggers never show `sslpassword`.
    var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host as Any, "port": port as Any, "sslmode": sslMode.rawValue, "sslrootcert": rootCertificates as Any,
                "sslcert": clientCertificate as Any, "sslkey": clientKey as Any, "sslpassword": clientKeyPassword == nil ? "none" : "redacted",
                "application_name": applicationName, "connect_timeout": connectTimeout, "pool_max_conns": poolSize,
            ])
    }

    private static func whole(_ name: String, _ value: String, in range: ClosedRange<Int>, unit: String) throws(PostgresStoreError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw .badLocation("the PostgreSQL URL's \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)\(unit)")
        }
        return number
    }
}
