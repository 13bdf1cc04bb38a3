import Foundation
import StepwiseTesting
import Testing

/// `stepwise serve --store postgres://…` refuses what it cannot use with an error in words that
/// never repeats the URL's password.
@Suite("stepwise serve on PostgreSQL")
struct PostgresCommandTests {
    static let password = "hunter2-do-not-print"

    @Test(
        "an unreachable server, a malformed URL, an unknown parameter and an unknown scheme are refused with exit status 2 and no password in the output",
        arguments: [
            "postgres://stepwise:\(Self.password)@127.0.0.1:1/stepwise?sslmode=disable",
            "postgres://stepwise:\(Self.password)@127.0.0.1:1/stepwise?sslmode=sometimes",
            "postgres://stepwise:\(Self.password)@127.0.0.1:1/stepwise?sslmode=disable&target_session_attrs=any",
            "postgres://stepwise:\(Self.password)@127.0.0.1:1/",
            "mysql://stepwise:\(Self.password)@127.0.0.1/stepwise",
        ])
    func refusedStores(url: String) throws {
        let result = try stepwise("serve", "--no-runner", "--store", url, "--port", "0")
        #expect(result.status == 2, "\(result.standardError)")
        #expect(!result.standardError.isEmpty)
        #expect(!(result.standardOutput + result.standardError).contains(Self.password))
    }

    @Test("a wrong password is refused in words from the server, naming the user, server and database, without the password", .enabled(if: StoreKind.postgresURL != nil))
    func wrongPassword() throws {
        let admin = try #require(StoreKind.postgresURL.flatMap(URLComponents.init(string:)))
        var wrong = admin
        wrong.password = Self.password
        let result = try stepwise("serve", "--no-runner", "--store", try #require(wrong.string), "--port", "0")
        #expect(result.status == 2)
        #expect(result.standardError.contains("password authentication failed"), "\(result.standardError)")
        let named = "user \(admin.user ?? "") at \(admin.host ?? ""):\(admin.port ?? 5432), database \(admin.path.dropFirst())"
        #expect(result.standardError.contains(named), "\(result.standardError)")
        #expect(!(result.standardOutput + result.standardError).contains(Self.password))
    }
}
