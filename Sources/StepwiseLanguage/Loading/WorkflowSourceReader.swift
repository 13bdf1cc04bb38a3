import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a workflow file's text, or says why it cannot, in the file system's words: a folder, a
/// loop of symbolic links, no permission, something that is no regular file, a size past the
/// limit, or bytes that are not UTF-8.
public enum WorkflowSourceReader {
    /// The largest workflow file read: 8 MiB, far past any workflow, so that a file that grows
    /// without end (a link to `/dev/zero`, a log) is refused rather than read into memory.
    public static let maximumBytes = 8 << 20

    /// The text of the file at `path`, or the reason it cannot be read.
    public static func text(atPath path: String) -> Result<String, UnreadableSource> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(UnreadableSource(reason: errorText())) }
        if let refusal = refusal(of: info, path: path) { return .failure(refusal) }
        // Opened here for errno, which names the reason (FileManager's errors do not); without
        // blocking, should a pipe have taken the file's place since the check.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(UnreadableSource(reason: errorText())) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard fstat(descriptor, &info) == 0 else { return .failure(UnreadableSource(reason: errorText())) }
        if let refusal = refusal(of: info, path: path) { return .failure(refusal) }
        guard let data = try? handle.read(upToCount: maximumBytes + 1) ?? Data() else { return .failure(UnreadableSource(reason: errorText())) }
        guard data.count <= maximumBytes else { return .failure(tooLarge) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(UnreadableSource(reason: "it is not UTF-8 text")) }
        return .success(text)
    }

    /// Why the file `info` describes is not read: a folder (one that cannot be listed names the
    /// reason), a device, pipe or socket (reading one may never end), or a file past the limit.
    private static func refusal(of info: stat, path: String) -> UnreadableSource? {
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard let directory = opendir(path) else { return UnreadableSource(reason: "it is a folder that cannot be listed (\(errorText()))") }
            closedir(directory)
            return UnreadableSource(reason: "it is a folder")
        case S_IFREG:
            return info.st_size > maximumBytes ? tooLarge : nil
        default:
            return UnreadableSource(reason: "it is not a regular file (a device, a pipe or a socket)")
        }
    }

    private static let tooLarge = UnreadableSource(reason: "it is larger than \(maximumBytes >> 20) MiB, the most a workflow file may be")

    /// The workflow files under `folder` (of its subfolders too when `recursive`), sorted: names
    /// ending in `.yaml` or `.yml` that are no folders; and every folder that cannot be listed,
    /// which reading then reports (`text(atPath:)`), so that a folder without permission is an
    /// error rather than a folder without workflows. Links to folders are not followed.
    public static func files(in folder: String, recursive: Bool = true) -> [String] {
        var found: [String] = []
        collect(in: folder, recursive: recursive, into: &found)
        return found.sorted()
    }

    private static func collect(in folder: String, recursive: Bool, into found: inout [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return found.append(folder) }
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            if isRealFolder(path) {
                if recursive { collect(in: path, recursive: true, into: &found) }
            } else if isWorkflowFileName(name), !isFolder(path) {
                found.append(path)
            }
        }
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

    /// Whether `path` is a folder itself, not a link to one.
    private static func isRealFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
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
