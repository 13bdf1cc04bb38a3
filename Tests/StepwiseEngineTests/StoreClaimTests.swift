import Foundation
import StepwiseSQLite
import StepwiseTesting
import Testing

/// A SQLite store serves one process: a second `stepwise serve` on it stops at start, naming the
/// process that holds it, instead of running a second delivery loop beside the first.
@Suite("SQLite store claim")
struct StoreClaimTests {
    @Test("serve on a SQLite store another process holds stops with an error naming that process; once given up, the store opens")
    func secondServerStops() async throws {
        let folder = try TemporaryDirectory()
        let store = folder.path("data/store.sqlite")
        // `--lease 1s` is refused once the store is open: it tells a server that got past the claim.
        let arguments = ["serve", "--no-runner", "--store", "sqlite:" + store, "--lease", "1s", "--port", "0"]
        let claim = try SQLiteStoreLock(storePath: store)
        let refused = try await onOwnThread { try stepwise(arguments: arguments) }
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("the store \(store) is served by process \(getpid()) already"), "\(refused.standardError)")
        #expect(refused.standardError.contains("a SQLite store serves one node"))
        #expect(!FileManager.default.fileExists(atPath: store), "the second server opened the store")
        #expect(throws: SQLiteStoreInUse.self) { try SQLiteStoreLock(storePath: store) }

        claim.release()
        let opened = try await onOwnThread { try stepwise(arguments: arguments) }
        #expect(opened.status == 2)
        #expect(opened.standardError.contains("--lease"), "\(opened.standardError)")
        #expect(FileManager.default.fileExists(atPath: store))
        _ = try SQLiteStoreLock(storePath: store)
    }
}
