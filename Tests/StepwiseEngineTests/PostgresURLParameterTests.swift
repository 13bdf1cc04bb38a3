import Foundation
import StepwiseEngine
import StepwisePostgres
import StepwiseTesting
import Testing

/// The parameters a `postgres://` URL may carry: TLS with a CA of the user's, the application's
/// name, the connect timeout and the pool's size; anything else is refused by name.
@Suite("The parameters of a PostgreSQL URL")
struct PostgresURLParameterTests {
    static let password = "hunter2-do-not-print"
    static let base = "postgres://stepwise:\(password)@127.0.0.1:1/stepwise"

    @Test(
        "a parameter Stepwise does not read, one given twice, or a value out of range is refused naming it, never the password",
        arguments: [
            ("?target_session_attrs=read-write", #"parameter "target_session_attrs" is not one Stepwise reads (host, port, sslmode, sslrootcert, sslcert"#),
            ("?sslmode=require&sslmode=disable", "gives sslmode twice"),
            ("?sslmode=verify-sometimes", "sslmode 'verify-sometimes' is not one of disable, prefer, require, verify-ca, verify-full"),
            ("?pool_max_conns=0", "pool_max_conns must be a whole number from 1 to 1000"),
            ("?pool_max_conns=many", "pool_max_conns must be a whole number from 1 to 1000"),
            ("?connect_timeout=0", "connect_timeout must be a whole number from 1 to 3600 seconds"),
            ("?application_name=" + String(repeating: "a", count: 64), "application_name must be at most 63 bytes"),
            ("?application_name=a%0Ab", "without control characters"),
            ("?sslrootcert=", "sslrootcert names no file"),
            ("?sslrootcert=/nonexistent/ca.pem", #"sslrootcert file "/nonexistent/ca.pem" cannot be read"#),
            ("?sslmode=disable&sslrootcert=/nonexistent/ca.pem", "sslrootcert needs TLS, which sslmode=disable turns off"),
            ("?sslmode=verify-ca", "sslmode=verify-ca needs sslrootcert"),
            ("?sslmode=verify-ca&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
            ("?sslmode=require&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
        ])
    func refusedParameters(query: String, error expected: String) {
        do {
            _ = try PostgresLocation(url: Self.base + query)
            Issue.record("\(query) was accepted")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect(!"\(error)".contains(Self.password))
        }
    }

    @Test("a sslrootcert file that holds no PEM certificate is refused naming the file; the parameters read are kept")
    func rootCertificatesAndDefaults() throws {
        let directory = try TemporaryDirectory()
        let garbage = directory.path("garbage.pem")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: Self.base + "?sslrootcert=" + garbage) }
        do {
            _ = try PostgresLocation(url: Self.base + "?sslrootcert=" + garbage)
        } catch {
            #expect("\(error)".contains("\(garbage.debugDescription) holds no PEM certificate"), "\(error)")
        }
        #expect(try PostgresLocation(url: Self.base).poolSize == 16)
        _ = try PostgresLocation(url: Self.base + "?sslmode=verify-full&sslrootcert=system")
        #expect(try PostgresLocation(url: Self.base + "?pool_max_conns=3&connect_timeout=5&application_name=billing").poolSize == 3)
    }

    @Test("a location printed, interpolated or dumped names its user, server and database, never its password")
    func locationsHideThePassword() throws {
        let location = try PostgresLocation(url: Self.base + "?sslmode=disable")
        var dumped = ""
        dump(location, to: &dumped)
        for shown in ["\(location)", String(reflecting: location), dumped] {
            #expect(!shown.contains(Self.password), "\(shown)")
        }
        #expect("\(location)" == "user stepwise at 127.0.0.1:1, database stepwise")
    }

    @Test("pool_max_conns bounds the connections a store opens, each showing its application_name", .enabled(if: StoreKind.postgresURL != nil))
    func poolSizeAndName() async throws {
        try await PostgresTestDatabase.with { database in
            let name = "stepwise-pool-\(UInt32.random(in: 0...UInt32.max))"
            // Waiting long for a connection: the whole suite at once once kept twenty reads on two
            // connections past ten seconds.
            var url = try #require(URLComponents(string: database.url))
            url.queryItems = (url.queryItems ?? []) + [URLQueryItem(name: "pool_max_conns", value: "2"), URLQueryItem(name: "application_name", value: name)]
            let store = try await PostgresStore.open(url: try #require(url.string), connectionWait: .seconds(60), logger: silentLogger)
            // Eight reads at once need more connections than two (a pool of 16 opens 8); the pool
            // keeps those it opened for a minute, so they are counted after the burst.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { _ = try await store.runs(RunFilter()) } }
                try await group.waitForAll()
            }
            // A backend outlives its client's close for a moment (the store's migration connection
            // was once still listed under CI's load), so the count is read until it settles; a
            // pool that opened more would keep them for a minute.
            let opened = try await eventually("the store's connections to be at most its pool's size", within: .seconds(10)) { () async throws -> Int64? in
                let count = try await PostgresTestDatabase.count(
                    url: database.url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)'")
                return count <= 2 ? count : nil
            }
            var dumped = ""
            dump(store, to: &dumped)
            #expect(!dumped.contains("stepwise-test-password"), "\(dumped)")
            await store.close()
            #expect((1...2).contains(opened), "\(opened) connections named \(name)")
        }
    }

    @Test(
        "TLS: verify-full checks the chain to the sslrootcert CA and the host name, verify-ca the chain only; a certificate another CA signed is refused, also by require with that CA",
        .enabled(if: StoreKind.postgresURL != nil && StoreKind.postgresTLSDirectory != nil))
    func verifiedTLS() async throws {
        let tls = try #require(StoreKind.postgresTLSDirectory)
        try await PostgresTestDatabase.with { database in
            let plain = try #require(database.url.components(separatedBy: "?").first)
            // The server's certificate is for the name `localhost` only: by the address 127.0.0.1,
            // verify-full has no name to match.
            let byName = plain.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
            let accepted = [
                (byName, "sslmode=verify-full&sslrootcert=\(tls)/ca.pem"), (plain, "sslmode=verify-ca&sslrootcert=\(tls)/ca.pem"),
                (plain, "sslmode=require"),
            ]
            for (index, (url, query)) in accepted.enumerated() {
                let name = "stepwise-tls-\(index)-\(UInt32.random(in: 0...UInt32.max))"
                let store = try await PostgresStore.open(url: url + "?" + query + "&application_name=" + name, logger: silentLogger)
                _ = try await store.runs(RunFilter())
                let encrypted = try await PostgresTestDatabase.count(
                    url: database.url,
                    "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = '\(name)' AND ssl")
                await store.close()
                #expect(encrypted >= 1, "\(url) \(query): no encrypted connection")
            }
            let refused = [
                (byName, "sslmode=verify-full&sslrootcert=\(tls)/other-ca.pem", "CERTIFICATE_VERIFY_FAILED"),
                (plain, "sslmode=require&sslrootcert=\(tls)/other-ca.pem", "CERTIFICATE_VERIFY_FAILED"),
                (plain, "sslmode=verify-full&sslrootcert=\(tls)/ca.pem", "failedToValidateHostname"),
            ]
            for (url, query, reason) in refused {
                do {
                    _ = try await PostgresStore.open(url: url + "?" + query, logger: silentLogger)
                    Issue.record("\(url) \(query) was accepted")
                } catch {
                    #expect("\(error)".contains(reason) && "\(error)".contains("PostgreSQL could not be used"), "\(query): \(error)")
                }
            }
        }
    }
}
