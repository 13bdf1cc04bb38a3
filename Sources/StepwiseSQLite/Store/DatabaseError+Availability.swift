import GRDB
import StepwiseEngine

/// SQLite's errors that mean the store cannot write for now, and may again later: the API
/// answers them 503 with `Retry-After`, not 500.
extension DatabaseError: StoreAvailabilityError {
    public var unavailableReason: String? {
        let sqlite = sqliteText
        switch resultCode {
        case .SQLITE_FULL: return "the disk of the store is full \(sqlite); free some space"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the store is locked by another process \(sqlite)"
        case .SQLITE_IOERR: return "the file system of the store answered with an error \(sqlite)"
        // Once open, the store fails to open a file when the process has no descriptor left.
        case .SQLITE_CANTOPEN: return "a file of the store cannot be opened: no file descriptor left? (see `ulimit -n`) \(sqlite)"
        default: return nil
        }
    }

    /// SQLite's own words, for the end of a message: `(SQLite: database or disk is full)`.
    var sqliteText: String { "(SQLite: \(message ?? "error \(resultCode.rawValue)"))" }
}
