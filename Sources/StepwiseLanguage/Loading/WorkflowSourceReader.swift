import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a workflow file's text, or says why it cannot, in the file system's words: a folder, a
/// loop of symbolic links, no permission, or bytes that are not UTF-8.
public enum WorkflowSourceReader {
    /// The text of the file at `path`, or the reason it cannot be read.
    public static func text(atPath path: String) -> Result<String, UnreadableSource> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(UnreadableSource(reason: errorText())) }
        guard info.st_mode & S_IFMT != S_IFDIR else { return .failure(UnreadableSource(reason: "it is a folder")) }
        let handle = open(path, O_RDONLY)
        guard handle >= 0 else { return .failure(UnreadableSource(reason: errorText())) }
        defer { close(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(handle, $0.baseAddress, $0.count) }
            guard count >= 0 else { return .failure(UnreadableSource(reason: errorText())) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(UnreadableSource(reason: "it is not UTF-8 text")) }
        return .success(text)
    }

    /// Whether `name` is a workflow file's: it ends in `.yaml` or `.yml`.
    public static func isWorkflowFileName(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    /// Whether `path` is a folder (a symbolic link to one included): a folder named `x.yaml` is
    /// searched like any other, never read as a file.
    public static func isFolder(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// The reason of the last failed call, lowercased as a clause (`permission denied`).
    private static func errorText() -> String {
        let text = String(cString: strerror(errno))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

/// Why a workflow file cannot be read.
public struct UnreadableSource: Error, Equatable, Sendable {
    /// The reason, as a clause: `permission denied`, `it is a folder`.
    public let reason: String
}

extension WorkflowFile {
    /// Reads and checks the file at `path`; a file that cannot be read is one error saying why.
    public static func reading(path: String) -> WorkflowFile {
        switch WorkflowSourceReader.text(atPath: path) {
        case .success(let text): WorkflowFile(path: path, source: text)
        case .failure(let unreadable): .unreadable(path: path, reason: unreadable.reason)
        }
    }
}
