import Foundation
import StepwiseEngine
import StepwiseSQLite
import StepwiseTesting
import Testing

/// `stepwise backup FILE` copies a SQLite store consistently while it is in use.
@Suite("stepwise backup")
struct BackupCommandTests {
    @Test("a store in use, its last commits still in the WAL, is copied whole to a new file its owner only can read; the copy opens as a store")
    func copiesAStoreInUse() async throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("store.db")
        let store = try SQLiteStore(path: path)
        let definition = StoredDefinition(hash: "h1", workflow: "greeting", source: "workflow: greeting")
        try await store.saveDefinition(definition)
        #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0 > 0, "the commit is still in the WAL")
        let copy = folder.path("backups/monday.db")
        let result = try await onOwnThread { try stepwise(arguments: ["backup", copy, "--store", "sqlite:" + path]) }
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "copied \(path) to \(copy)\n")
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int == 0o600)
        #expect(try await SQLiteStore(path: copy).definitions() == [definition])

        let again = try await onOwnThread { try stepwise(arguments: ["backup", copy, "--store", "sqlite:" + path]) }
        #expect(again.status == 1 && again.standardError.contains("cannot create \(copy): it exists already: name a new file"), "\(again.standardError)")
    }

    @Test("no store, a file that is not a Stepwise store, or a PostgreSQL store: an error saying so, and no file left behind")
    func refusals() async throws {
        let folder = try TemporaryDirectory()
        let missing = try await onOwnThread { try stepwise(arguments: ["backup", folder.path("a.db"), "--store", "sqlite:" + folder.path("none.db")]) }
        #expect(missing.status == 1 && missing.standardError.contains("there is no store at \(folder.path("none.db"))"), "\(missing.standardError)")
        try Data("not a database at all, just text".utf8).write(to: URL(fileURLWithPath: folder.path("text.db")))
        let text = try await onOwnThread { try stepwise(arguments: ["backup", folder.path("b.db"), "--store", "sqlite:" + folder.path("text.db")]) }
        #expect(text.status == 1 && text.standardError.contains("it is not a SQLite database"), "\(text.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("b.db")))
        let postgres = try await onOwnThread { try stepwise(arguments: ["backup", folder.path("c.db"), "--store", "postgres://u:secret@127.0.0.1:1/db"]) }
        #expect(postgres.status == 2 && postgres.standardError.contains("pg_dump") && !postgres.standardError.contains("secret"))
        let bare = try await onOwnThread { try stepwise(arguments: ["backup", folder.path("d.db"), "--store", folder.path("a.db")]) }
        #expect(bare.status == 2 && bare.standardError.contains("put sqlite: before its path"), "\(bare.standardError)")
    }
}
