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
        // Opened here for errno, which names the reason (FileManager's errors do not).
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return .failure(UnreadableSource(reason: errorText())) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard let data = try? handle.readToEnd() ?? Data() else { return .failure(UnreadableSource(reason: errorText())) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(UnreadableSource(reason: "it is not UTF-8 text")) }
        return .success(text)
    }

    /// The workflow files under `folder` (of its subfolders too when `recursive`), sorted: names
    /// ending in `.yaml` or `.yml` that are no folders.
    public static func files(in folder: String, recursive: Bool = true) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var found: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            guard isWorkflowFileName(relative), recursive || !relative.contains("/") else { continue }
            let file = (folder as NSString).appendingPathComponent(relative)
            if !isFolder(file) { found.append(file) }
        }
        return found.sorted()
    }

    /// Whether `name` is a workflow file's: it ends in `.yaml` or `.yml`.
    static func isWorkflowFileName(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    /// Whether `path` is a folder (a symbolic link to one included): a folder named `x.yaml` is
    /// searched like any other, never read as a file.
    static func isFolder(_ path: String) -> Bool {
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
