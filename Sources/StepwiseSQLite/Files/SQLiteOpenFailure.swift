import Foundation
import GRDB

/// Why the store file at `path` could not be opened, in words an operator can act on: the file
/// named, what is wrong with it, and SQLite's own message last.
struct SQLiteOpenFailure: Error, CustomStringConvertible {
    let path: String
    let problem: String

    /// The failure `error` gave while opening `path`.
    init(path: String, error: any Error) {
        self.path = path
        problem = Self.problem(error)
    }

    var description: String { "cannot open the store \(path): \(problem)" }

    private static func problem(_ error: any Error) -> String {
        guard let database = error as? DatabaseError else { return (error as NSError).localizedDescription }
        let sqlite = database.sqliteText
        switch database.resultCode {
        case .SQLITE_NOTADB: return "it is not a SQLite database \(sqlite); move it aside to start with a new store"
        case .SQLITE_CORRUPT: return "it is damaged \(sqlite); restore it from a backup, or move it aside to start anew"
        case .SQLITE_CANTOPEN: return "the file cannot be opened: is it a folder, or is its folder missing or not writable? \(sqlite)"
        case .SQLITE_READONLY, .SQLITE_PERM: return "it cannot be written, and the server writes it: check its permissions and its file system \(sqlite)"
        case .SQLITE_FULL: return "its disk is full \(sqlite); free some space"
        case .SQLITE_IOERR: return "the file system answered with an error \(sqlite)"
        default: return sqlite
        }
    }
}
