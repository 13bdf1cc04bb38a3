import ArgumentParser
import StepwiseSQLite

/// `stepwise backup FILE`: a consistent copy of the SQLite store, taken while `serve` runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy the SQLite store to a new file, consistently, while the server runs.",
        discussion: """
            The copy is one snapshot of the store (its write-ahead log included), compacted, readable by its owner only, \
            and checked before the command succeeds. Keep .stepwise/token with it: the store holds only the token's digest. \
            To restore, stop the server and put the copy in the store's place. A PostgreSQL store is backed up with pg_dump.
            """)

    @Argument(help: "The new file to write (an existing file is refused).") var destination: String
    @Option(name: .long, help: "The store to copy: sqlite:PATH (default: $STEPWISE_STORE, else sqlite:.stepwise/stepwise.db).")
    var store: String?

    func run() throws {
        let location = StoreLocation(option: store).text
        guard location.hasPrefix("sqlite:") else {
            guard location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") else {
                throw CommandFailure.usage("unsupported --store: use sqlite:PATH (for a file, put sqlite: before its path)")
            }
            throw CommandFailure.usage("stepwise backup copies a SQLite store; back a PostgreSQL store up with pg_dump")
        }
        let path = String(location.dropFirst("sqlite:".count))
        do {
            try SQLiteBackup.copy(store: path, to: destination)
        } catch let failure as SQLiteBackupFailure {
            throw CommandFailure.failed(failure.description)
        }
        print("copied \(path) to \(destination)")
    }
}
