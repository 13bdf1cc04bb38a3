import Foundation
import Logging
import PostgresNIO
import StepwiseEngine
import StepwisePostgres
import StepwiseSQLite

/// The stores a test suite over the `Store` protocol runs against: SQLite always; PostgreSQL when
/// `STEPWISE_TEST_POSTGRES_URL` names a server (`scripts/postgres_server.sh start` prints one).
/// `STEPWISE_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes a missing server a failure instead.
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The administrative URL of the PostgreSQL server tests use, if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["STEPWISE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The folder of the test server's TLS files (`STEPWISE_TEST_POSTGRES_TLS`): `ca.pem`, the CA
    /// that signed its certificate for localhost, `other-ca.pem`, one that signed nothing but the
    /// stranger's, and the client certificates (`scripts/postgres_server.sh` says which).
    public static var postgresTLSDirectory: String? {
        ProcessInfo.processInfo.environment["STEPWISE_TEST_POSTGRES_TLS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The folder of the test server's Unix-domain socket (`STEPWISE_TEST_POSTGRES_SOCKETS`: the
    /// folder `scripts/postgres_server.sh` was given).
    public static var postgresSocketDirectory: String? {
        ProcessInfo.processInfo.environment["STEPWISE_TEST_POSTGRES_SOCKETS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether PostgreSQL must be tested here (CI).
    public static var postgresRequired: Bool {
        ProcessInfo.processInfo.environment["STEPWISE_REQUIRE_POSTGRES"] == "1"
    }

    /// The kinds this machine can test: PostgreSQL when a server is configured (or required, so
    /// that its tests fail saying what is missing).
    public static var testable: [StoreKind] {
        postgresURL != nil || postgresRequired ? allCases : [.sqlite]
    }

    /// Why the PostgreSQL half is skipped, printed by the test that stands for it.
    public static let postgresSkipReason =
        "PostgreSQL half of the store suite skipped: set STEPWISE_TEST_POSTGRES_URL (scripts/postgres_server.sh start prints one)"

    /// Opens a store of this kind: SQLite in `file` of `directory` (kept there), or a fresh
    /// PostgreSQL database; `close` removes the latter.
    public func open(in directory: TemporaryDirectory, file: String = "store.db") async throws -> OpenedStore {
        switch self {
        case .sqlite:
            return OpenedStore(store: try SQLiteStore(path: directory.path(file)), url: "sqlite:" + directory.path(file)) {}
        case .postgres:
            let database = try await PostgresTestDatabase.create()
            let store = try await PostgresStore.open(url: database.url, logger: silentLogger)
            return OpenedStore(store: store, url: database.url) {
                await store.close()
                await database.drop()
            }
        }
    }
}

/// A store opened for a test, with what removes it.
public struct OpenedStore: Sendable {
    public let store: any Store
    /// Where it is, as `--store` takes it.
    public let url: String
    public let close: @Sendable () async -> Void
}

/// A database of its own for one test on the configured PostgreSQL server, dropped afterwards.
public struct PostgresTestDatabase: Sendable {
    /// Its URL, for `PostgresStore.open` or `--store`.
    public let url: String
    /// Its name on the server (for statements such as `ALTER DATABASE`).
    public let name: String
    let location: PostgresLocation

    /// Creates a new empty database on the server of `STEPWISE_TEST_POSTGRES_URL`.
    public static func create() async throws -> PostgresTestDatabase {
        guard let admin = StoreKind.postgresURL else { throw PostgresTestSetupError.noServer }
        let location = try PostgresLocation(url: admin)
        let name = "stepwise_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await withConnection(to: location) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: silentLogger)
        }
        guard var components = URLComponents(string: admin) else { throw PostgresTestSetupError.noServer }
        components.path = "/" + name
        return PostgresTestDatabase(url: components.string ?? admin, name: name, location: location)
    }

    /// Runs `body` on a new empty database, dropped afterwards whether `body` threw or not.
    public static func with(_ body: (PostgresTestDatabase) async throws -> Void) async throws {
        let database = try await create()
        do {
            try await body(database)
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }

    /// Whether some connection to the database of `url` listens for notifications: a node's
    /// `LISTEN` for other nodes' work is up.
    public static func hasListener(url: String) async throws -> Bool {
        try await count(url: url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'") > 0
    }

    /// The number `query` (a `SELECT count(*)…`) answers on the database of `url`.
    public static func count(url: String, _ query: String) async throws -> Int64 {
        try await withConnection(to: PostgresLocation(url: url)) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: query), logger: silentLogger)
            var count: Int64 = 0
            for try await value in rows.decode(Int64.self) { count = value }
            return count
        }
    }

    /// Runs `statements` on the database, one after another, as a node of another version or a
    /// migration's earlier state would write it.
    public func execute(_ statements: [String]) async throws {
        try await Self.withConnection(to: PostgresLocation(url: url)) { connection in
            for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: silentLogger) }
        }
    }

    /// Runs `body` with a connection of its own to `location`, closed afterwards whether `body`
    /// threw or not. Each statement may take a minute at most: a `CREATE` or `DROP DATABASE` waits
    /// on the whole cluster (a checkpoint, every backend), and a test once waited forever, idle.
    @discardableResult
    private static func withConnection<T>(to location: PostgresLocation, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await location.connect(logger: silentLogger)
        do {
            try await connection.query("SET statement_timeout = '60s'", logger: silentLogger)
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Drops the database, closing what is still connected to it.
    public func drop() async {
        _ = try? await Self.withConnection(to: location) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: silentLogger)
        }
    }
}

/// The PostgreSQL half of a test cannot run.
public enum PostgresTestSetupError: Error, CustomStringConvertible {
    case noServer

    public var description: String {
        "STEPWISE_REQUIRE_POSTGRES=1 but STEPWISE_TEST_POSTGRES_URL names no PostgreSQL server (scripts/postgres_server.sh start prints one)"
    }
}
