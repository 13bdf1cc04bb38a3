import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The claim of one server process on a SQLite store: an exclusive `flock` of `PATH.lock`, which
/// holds the claimant's process id. A SQLite store serves one node, and a second `stepwise serve`
/// on it would run a second delivery loop and schedule ticker beside the first with nothing to
/// tell the operator; the claim makes it stop at start instead, naming the process that holds the
/// store. The kernel drops the claim when its process ends, SIGKILL included, so a restart never
/// waits on a stale lock.
public final class SQLiteStoreLock: Sendable {
    private let descriptor: Mutex<Int32?>

    /// Claims the store at `storePath` for this process; throws `SQLiteStoreInUse` when another
    /// process holds it, or `SQLiteStoreLockFailure` when the lock file cannot be created.
    public init(storePath: String) throws {
        let file = storePath + ".lock"
        try? StoreFilePermissions.createFolder(of: storePath)
        let descriptor = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SQLiteStoreLockFailure(file: file, code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holder(descriptor)
            close(descriptor)
            guard code == EWOULDBLOCK else { throw SQLiteStoreLockFailure(file: file, code: code) }
            throw SQLiteStoreInUse(store: storePath, holder: holder)
        }
        let identity = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = identity.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = Mutex(descriptor)
    }

    /// Gives the store up (the lock file stays, unlocked); later calls do nothing.
    public func release() {
        descriptor.withLock { descriptor in
            if let open = descriptor { close(open) }
            descriptor = nil
        }
    }

    deinit { release() }

    /// The process id written by the holder, when it can be read.
    private static func holder(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Another process serves the SQLite store: what a second `stepwise serve` on it says.
public struct SQLiteStoreInUse: Error, CustomStringConvertible {
    /// The store file.
    public let store: String
    /// The process id its holder wrote, if readable.
    public let holder: Int32?

    public var description: String {
        let process = holder.map { "process \($0)" } ?? "another process"
        return "the store \(store) is served by \(process) already (its lock file \(store).lock): "
            + "a SQLite store serves one node; stop that server first, or share a PostgreSQL store between nodes (--store postgres://…)"
    }
}

/// The lock file of a SQLite store could not be created or locked (its folder missing or read-only).
public struct SQLiteStoreLockFailure: Error, CustomStringConvertible {
    /// The lock file.
    public let file: String
    /// The `errno` of the failure.
    public let code: Int32

    public var description: String {
        "cannot lock the store with \(file): \(String(cString: strerror(code)))"
    }
}
