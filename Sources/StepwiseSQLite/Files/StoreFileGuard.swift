import Foundation
import GRDB
import StepwiseEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Refuses every commit once the store's file or its write-ahead log is no longer the one this
/// process opened (deleted, or replaced by another file): SQLite would go on writing to the
/// unlinked file, and everything acknowledged from then on would be gone at the next start. A
/// commit it refuses rolls back, and the store answers as unavailable (503) until the file is
/// back. A `stat` of each file a commit, a few microseconds beside its fsync. A connection opened
/// meanwhile (a reader the pool adds) is refused too: it would read whatever file is at the path.
final class StoreFileGuard: TransactionObserver, Sendable {
    private let path: String
    private let database: FileIdentity
    private let log: FileIdentity?

    /// A guard of the files at `path` and `path-wal` as they are now (the log only if it exists
    /// now: a store opened in WAL mode has one while the server holds it open).
    init(path: String) throws {
        self.path = path
        guard let database = FileIdentity(path: path) else {
            throw StoreUnavailable(reason: "the store file \(path) cannot be found after opening it")
        }
        self.database = database
        log = FileIdentity(path: path + "-wal")
    }

    /// Throws when the files are not the ones opened.
    func check() throws {
        try checkDatabaseFile()
        if let log, FileIdentity(path: path + "-wal") != log { throw Self.replaced(path + "-wal") }
    }

    /// Throws when the database file is not the one opened (what a new connection opens; its
    /// write-ahead log it shares with the others).
    func checkDatabaseFile() throws {
        guard FileIdentity(path: path) == database else { throw Self.replaced(path) }
    }

    private static func replaced(_ file: String) -> StoreUnavailable {
        StoreUnavailable(
            reason: "the store file \(file) was deleted or replaced while this server runs; nothing more is written, "
                + "since it would be lost at the next start: stop the server and put the file back (or move the store aside to start anew)")
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseWillCommit() throws { try check() }
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}

/// A file as the file system knows it: its device and inode.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// The file at `path`; `nil` when there is none.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
