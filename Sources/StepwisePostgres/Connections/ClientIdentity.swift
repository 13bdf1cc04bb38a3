import Foundation
import NIOSSL

/// The certificate chain and private key a node presents to a server that authenticates clients
/// by certificate (`sslcert`, `sslkey`, `sslpassword`), read and checked as libpq does: a key
/// that others can read is refused, since anyone who reads it can log in as the node.
struct ClientIdentity {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey

    /// The identity the URL names, or `nil` when it names none.
    init?(_ parameters: PostgresURLParameters) throws(PostgresStoreError) {
        guard parameters.clientCertificate != nil || parameters.clientKey != nil else {
            guard parameters.clientKeyPassword == nil else { throw .badLocation("the PostgreSQL URL's sslpassword needs sslkey, the key it opens") }
            return nil
        }
        guard let certificate = parameters.clientCertificate else { throw .badLocation("the PostgreSQL URL's sslkey needs sslcert, the certificate of the key") }
        guard let keyPath = parameters.clientKey else { throw .badLocation("the PostgreSQL URL's sslcert needs sslkey, the certificate's private key") }
        chain = try PostgresTLS.certificates(in: certificate, parameter: "sslcert")
        try Self.checkPermissions(of: keyPath)
        key = try Self.key(at: keyPath, password: parameters.clientKeyPassword)
    }

    /// libpq's rule: a key its user owns must give the group and others no access; one root owns
    /// may let the group read it (a key shared through a group), no more.
    private static func checkPermissions(of path: String) throws(PostgresStoreError) {
        guard FileManager.default.isReadableFile(atPath: path), let info = PostgresTLS.regularFile(at: path) else {
            throw .badLocation("the PostgreSQL URL's sslkey file \(path.debugDescription) cannot be read")
        }
        let mode = info.st_mode & 0o7777
        let tooOpen: Bool
        switch info.st_uid {
        case geteuid(): tooOpen = mode & 0o077 != 0
        case 0: tooOpen = mode & 0o037 != 0
        default: tooOpen = false
        }
        guard !tooOpen else {
            throw .badLocation(
                "the PostgreSQL URL's sslkey file \(path.debugDescription) can be read by others (mode \(String(mode & 0o777, radix: 8))): give it u=rw (0600) or less, as libpq requires"
            )
        }
    }

    private static func key(at path: String, password: String?) throws(PostgresStoreError) -> NIOSSLPrivateKey {
        do {
            guard let password else { return try NIOSSLPrivateKey(file: path, format: .pem) }
            return try NIOSSLPrivateKey(file: path, format: .pem) { (setter: NIOSSLPassphraseSetter<[UInt8]>) in setter(Array(password.utf8)) }
        } catch {
            // BoringSSL's error says nothing of the passphrase; it is left out all the same.
            let hint = password == nil ? " (an encrypted key needs sslpassword)" : " (is sslpassword right?)"
            throw .badLocation("the PostgreSQL URL's sslkey file \(path.debugDescription) holds no PEM private key that opens\(hint)")
        }
    }
}
