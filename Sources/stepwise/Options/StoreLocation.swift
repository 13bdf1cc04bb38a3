import Foundation
import Logging
import StepwiseEngine
import StepwisePostgres
import StepwiseSQLite

/// Where `stepwise serve` keeps its runs: `--store`, else `$STEPWISE_STORE`, else SQLite in
/// `.stepwise/stepwise.db`. A PostgreSQL URL's password is never repeated in an error.
struct StoreLocation {
    static let standard = "sqlite:.stepwise/stepwise.db"
    let text: String

    /// The location given on the command line, in the environment, or the default.
    init(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        text = option ?? environment["STEPWISE_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.standard
    }

    /// Opens the store (a PostgreSQL pool connects and migrates first, and waits at most
    /// `connectionWait` for a connection later); `close` ends it.
    func open(connectionWait: Duration = PostgresStore.standardConnectionWait) async throws -> (store: any Store, close: @Sendable () async -> Void) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw CommandFailure.usage("--store sqlite: names no file: give sqlite:PATH (default sqlite:.stepwise/stepwise.db)") }
            return try openSQLite(path: path)
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            throw CommandFailure.usage("unsupported --store: use sqlite:PATH or postgres://user:password@host:port/database")
        }
        do {
            let store = try await PostgresStore.open(url: text, connectionWait: connectionWait)
            return (store, { await store.close() })
        } catch let error as PostgresStoreError {
            throw CommandFailure.usage("\(error)")
        }
    }

    /// A SQLite store serves one process: it is claimed before it is opened (a second server
    /// stops there, naming the first), and given up when closed.
    private func openSQLite(path: String) throws -> (store: any Store, close: @Sendable () async -> Void) {
        let claim: SQLiteStoreLock
        do {
            claim = try SQLiteStoreLock(storePath: path)
        } catch let error as SQLiteStoreInUse {
            throw CommandFailure.failed("\(error)")
        }
        let store = try SQLiteStore(path: path)
        let exposed = StoreFilePermissions.exposed(path: path)
        if !exposed.isEmpty {
            Logger(label: "stepwise").warning(
                "other users of this host can read \(exposed.joined(separator: ", ")), and the store holds the signing keys and every run's data: chmod 600 \(path)*")
        }
        return (store, { claim.release() })
    }
}
