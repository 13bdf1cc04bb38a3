import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file holding the input being run. Written with one system call per case into the kernel's
/// page cache, it survives the fuzzer's own crash.
final class CurrentInput {
    private let descriptor: Int32
    private let path: String

    /// Opens (creating or emptying) the file at `path`.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
    }

    deinit { close(descriptor) }

    /// Replaces the file's content with `input`. A failed write only loses the record of a crash.
    func write(_ input: [UInt8]) {
        _ = ftruncate(descriptor, 0)
        _ = input.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Deletes the file: the run ended without a crash.
    func remove() {
        unlink(path)
    }
}
