import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who may read a SQLite store's files. The store holds the signing keys of every delivery and
/// every run's input, output and responses, so a new store is made for its owner only: its folder
/// (when created here) `0700`, its file `0600`, which SQLite gives its WAL and shared-memory
/// files too. An existing store is left as it is, and `exposed` names what others can read.
public enum StoreFilePermissions {
    /// Creates the folder of `path` (owner only) when it is missing, and an empty store file
    /// readable by its owner only when there is none.
    public static func createPrivately(path: String) throws {
        try createFolder(of: path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
    }

    /// Creates the folder of `path`, owner only, when it is missing (and its parents).
    public static func createFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// The store's files (the database, its WAL and shared memory) that users other than the
    /// owner can read, each with its mode: `stepwise.db (mode 644)`.
    public static func exposed(path: String) -> [String] {
        [path, path + "-wal", path + "-shm"].compactMap { file in
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & (S_IRGRP | S_IROTH) != 0 else { return nil }
            return "\(file) (mode \(String(info.st_mode & 0o777, radix: 8)))"
        }
    }
}
