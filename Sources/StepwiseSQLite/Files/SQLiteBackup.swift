import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A consistent copy of a SQLite store taken while a server may be using it: SQLite's
/// `VACUUM INTO` reads one snapshot of the store, its WAL included (a `cp` of the file alone
/// misses what the WAL holds), and writes a compact store file that its owner only can read.
public enum SQLiteBackup {
    /// Copies the store at `store` to the new file `destination` and checks the copy; throws
    /// `SQLiteBackupFailure` naming the file and what went wrong. An existing destination is refused.
    public static func copy(store: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: store) else { throw SQLiteBackupFailure("there is no store at \(store)") }
        try StoreFilePermissions.createFolder(of: destination)
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it exists already: name a new file" : String(cString: strerror(errno))
            throw SQLiteBackupFailure("cannot create \(destination): \(reason)")
        }
        close(descriptor)
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let source = try DatabaseQueue(path: store, configuration: configuration)
            try source.inDatabase { db in
                guard try db.tableExists("runs") else { throw SQLiteBackupFailure("\(store) is not a Stepwise store (it has no runs table)") }
                try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
            }
            try source.close()
            let copy = try DatabaseQueue(path: destination, configuration: configuration)
            let check = try copy.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            try copy.close()
            guard check == "ok" else { throw SQLiteBackupFailure("the copy \(destination) does not pass SQLite's check: \(check ?? "no answer")") }
        } catch let failure as SQLiteBackupFailure {
            try? FileManager.default.removeItem(atPath: destination)
            throw failure
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            throw SQLiteBackupFailure("cannot copy \(store) to \(destination): \(SQLiteOpenFailure(path: store, error: error).problem)")
        }
    }
}

/// Why a backup was not made, in words an operator can act on.
public struct SQLiteBackupFailure: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
