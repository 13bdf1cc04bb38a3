import Foundation
import StepwiseEngine
import StepwisePostgres
import StepwiseTesting
import Testing

/// Where and as whom a node connects: a Unix-domain socket (libpq's `host=/directory`), and a
/// client certificate for a server that authenticates by certificate (`sslcert`, `sslkey`,
/// `sslpassword`).
@Suite("Sockets and client certificates of a PostgreSQL URL")
struct PostgresEndpointTests {
    static let password = "hunter2-do-not-print"

    @Test(
        "a host that is a path, in the URL or as ?host=, is a Unix socket's directory; ?host= and ?port= take the URL's place; no host is Debian's socket",
        arguments: [
            ("postgres://stepwise:\(password)@%2Ftmp%2Fpg:5433/db", PostgresEndpoint.socket(directory: "/tmp/pg", port: 5433), "socket /tmp/pg/.s.PGSQL.5433"),
            ("postgres://stepwise@/db?host=/run/pg/&port=6000", .socket(directory: "/run/pg/", port: 6000), "socket /run/pg/.s.PGSQL.6000"),
            ("postgres://stepwise@/db", .socket(directory: "/var/run/postgresql", port: 5432), "socket /var/run/postgresql/.s.PGSQL.5432"),
            ("postgres://stepwise@localhost:1/db?host=db.internal&port=6432", .network(host: "db.internal", port: 6432), "db.internal:6432"),
            ("postgres://stepwise@[::1]/db", .network(host: "::1", port: 5432), "[::1]:5432"),
            ("postgres://stepwise@/db?host=[::1]", .network(host: "::1", port: 5432), "[::1]:5432"),
        ])
    func endpoints(url: String, endpoint: PostgresEndpoint, named: String) throws {
        let location = try PostgresLocation(url: url)
        #expect(location.endpoint == endpoint)
        #expect("\(location)" == "user stepwise at \(named), database db")
    }

    @Test(
        "TLS asked of a socket, a client certificate without its key or the other way round, or a bad port is refused naming it, never sslpassword or the password",
        arguments: [
            ("?host=/tmp/pg&sslmode=require", "sslmode=require needs TLS, which a Unix socket does not use"),
            ("?host=/tmp/pg&sslmode=verify-full", "sslmode=verify-full needs TLS, which a Unix socket does not use"),
            ("?host=/tmp/pg&sslrootcert=/ca.pem", "sslrootcert needs TLS, which a Unix socket does not use"),
            ("?sslmode=disable&sslcert=/c.pem&sslkey=/k.pem", "sslcert needs TLS, which sslmode=disable turns off"),
            ("?sslcert=/c.pem", "sslcert needs sslkey"),
            ("?sslkey=/k.pem", "sslkey needs sslcert"),
            ("?sslpassword=\(password)", "sslpassword needs sslkey"),
            ("?sslcert=/nonexistent/c.pem&sslkey=/nonexistent/k.pem&sslpassword=\(password)", #"sslcert file "/nonexistent/c.pem" cannot be read"#),
            ("?sslcert=", "sslcert names no file"),
            ("?sslrootcert=/dev/zero", #"sslrootcert file "/dev/zero" cannot be read"#),
            ("?port=0", "port must be a whole number from 1 to 65535"),
            ("?host=", "host parameter must name a host or a socket's directory"),
        ])
    func refused(query: String, error expected: String) {
        do {
            _ = try PostgresLocation(url: "postgres://stepwise:\(Self.password)@127.0.0.1:1/db" + query)
            Issue.record("\(query) was accepted")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect(!"\(error)".contains(Self.password))
        }
    }

    @Test(
        "a client key others can read, one that is no key, an encrypted one without or with a wrong sslpassword, or one of another certificate is refused naming the file",
        .enabled(if: StoreKind.postgresTLSDirectory != nil))
    func refusedKeys() throws {
        let tls = try #require(StoreKind.postgresTLSDirectory)
        let directory = try TemporaryDirectory()
        let readable = directory.path("readable.key")
        try FileManager.default.copyItem(atPath: "\(tls)/client.key", toPath: readable)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: readable)
        let garbage = directory.path("garbage.key")
        try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: garbage))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: garbage)
        let wrongPassword = "wrong-\(Self.password)"
        let cases = [
            ("sslkey=\(readable)", "\(readable.debugDescription) can be read by others (mode 644)"),
            ("sslkey=\(garbage)", "\(garbage.debugDescription) holds no PEM private key that opens (an encrypted key needs sslpassword)"),
            ("sslkey=\(tls)/client-encrypted.key", "holds no PEM private key that opens (an encrypted key needs sslpassword)"),
            ("sslkey=\(tls)/client-encrypted.key&sslpassword=\(wrongPassword)", "holds no PEM private key that opens (is sslpassword right?)"),
            ("sslkey=\(tls)/stranger.key", "does the sslkey belong to the sslcert's certificate?"),
        ]
        for (query, expected) in cases {
            do {
                _ = try PostgresLocation(url: "postgres://stepwise@127.0.0.1:1/db?sslmode=require&sslcert=\(tls)/client.crt&" + query)
                Issue.record("\(query) was accepted")
            } catch {
                #expect("\(error)".contains(expected), "\(query): \(error)")
                #expect(!"\(error)".contains(wrongPassword))
            }
        }
    }

    @Test(
        "a node connects by client certificate alone to a database that authenticates by certificate, its key plain or under sslpassword; without one, or with one another CA signed, it is refused",
        .enabled(if: StoreKind.postgresURL != nil && StoreKind.postgresTLSDirectory != nil))
    func clientCertificates() async throws {
        let tls = try #require(StoreKind.postgresTLSDirectory)
        let admin = try #require(StoreKind.postgresURL)
        let port = try #require(URLComponents(string: admin)?.port)
        // `scripts/postgres_server.sh` makes the database stepwise_cert, which takes TLS
        // connections with a certificate its CA signed for the user, and no password.
        let certified = "postgres://stepwise@localhost:\(port)/stepwise_cert?sslmode=verify-full&sslrootcert=\(tls)/ca.pem"
        let name = "stepwise-cert-\(UInt32.random(in: 0...UInt32.max))"
        // Waiting long for a connection: with the whole suite at once on two cores, a CI run once
        // kept this store's first connection past the pool's ten seconds.
        let store = try await PostgresStore.open(
            url: certified + "&sslcert=\(tls)/client.crt&sslkey=\(tls)/client.key&application_name=\(name)", connectionWait: .seconds(60),
            logger: silentLogger)
        _ = try await store.runs(RunFilter())
        let shown = try await PostgresTestDatabase.count(
            url: admin,
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = '\(name)' AND client_dn = '/CN=stepwise'")
        await store.close()
        #expect(shown >= 1, "no connection showed the client certificate")

        // The files through links, as a Kubernetes secret mounts them.
        let links = try TemporaryDirectory()
        for (link, file) in [("root.pem", "ca.pem"), ("node.crt", "client.crt"), ("node.key", "client-encrypted.key")] {
            try FileManager.default.createSymbolicLink(atPath: links.path(link), withDestinationPath: "\(tls)/\(file)")
        }
        let password = try String(contentsOfFile: "\(tls)/client-key-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let encrypted = try PostgresLocation(
            url: "postgres://stepwise@localhost:\(port)/stepwise_cert?sslmode=verify-full&sslrootcert=\(links.path("root.pem"))"
                + "&sslcert=\(links.path("node.crt"))&sslkey=\(links.path("node.key"))&sslpassword=\(password)")
        try await encrypted.connect(logger: silentLogger).close()

        let refused = [
            ("", "connection requires a valid client certificate"),
            ("&sslcert=\(tls)/stranger.crt&sslkey=\(tls)/stranger.key", "CA"),
        ]
        for (query, reason) in refused {
            do {
                let store = try await PostgresStore.open(url: certified + query, logger: silentLogger)
                await store.close()
                Issue.record("\(query.isEmpty ? "no certificate" : query) was accepted")
            } catch {
                #expect("\(error)".contains(reason) && "\(error)".contains("PostgreSQL could not be used"), "\(query): \(error)")
            }
        }
    }

    @Test(
        "a node connects through the server's Unix socket, named by a path as host or by ?host=",
        .enabled(if: StoreKind.postgresURL != nil && StoreKind.postgresSocketDirectory != nil))
    func unixSocket() async throws {
        let directory = try #require(StoreKind.postgresSocketDirectory)
        try await PostgresTestDatabase.with { database in
            var components = try #require(URLComponents(string: database.url))
            let port = try #require(components.port)
            components.queryItems = nil
            let encoded = try #require(directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let byPath = try #require(components.string).replacingOccurrences(of: "@127.0.0.1:\(port)", with: "@\(encoded):\(port)")
            components.host = nil
            components.port = nil
            let byParameter = try #require(components.string) + "?host=\(directory)&port=\(port)"
            for (index, url) in [byPath, byParameter].enumerated() {
                let name = "stepwise-socket-\(index)-\(UInt32.random(in: 0...UInt32.max))"
                let store = try await PostgresStore.open(
                    url: url + (url.contains("?") ? "&" : "?") + "application_name=\(name)", connectionWait: .seconds(60), logger: silentLogger)
                _ = try await store.runs(RunFilter())
                // A connection through a socket has no client address.
                let throughSocket = try await PostgresTestDatabase.count(
                    url: database.url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)' AND client_addr IS NULL")
                await store.close()
                #expect(throughSocket >= 1, "\(url): no connection through the socket")
            }
        }
    }
}
