import Foundation
import StepwiseEngine
import StepwiseSQLite
import StepwiseTesting
import Testing

/// A SQLite store holds the signing keys and every run's data: a new one is readable by its owner
/// only, and `serve` warns about an existing one others can read.
@Suite("SQLite store file permissions")
struct StoreFilePermissionsTests {
    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("a new store's folder is 0700 and its file, WAL and shared memory are 0600 (the umask lets group and others read)")
    func newStoreIsPrivate() async throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("made/here/store.db")
        let store = try SQLiteStore(path: path)
        try await store.saveDefinition(.init(hash: "h", workflow: "w", source: "workflow: w"))
        #expect(try mode(folder.path("made/here")) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
        #expect(StoreFilePermissions.exposed(path: path).isEmpty)
    }

    @Test("serve warns, naming the files and what to run, when others can read an existing store")
    func exposedStoreIsNamed() async throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("store.db")
        _ = try SQLiteStore(path: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(StoreFilePermissions.exposed(path: path) == ["\(path) (mode 644)"])
        // `--lease 1s` is refused once the store is open, after the warning.
        let arguments = ["serve", "--no-runner", "--store", "sqlite:" + path, "--lease", "1s", "--port", "0"]
        let result = try await onOwnThread { try stepwise(arguments: arguments) }
        #expect(result.standardError.contains("other users of this host can read \(path) (mode 644)"), "\(result.standardError)")
        #expect(result.standardError.contains("chmod 600 \(path)*"))
    }
}
