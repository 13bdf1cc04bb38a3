import StepwiseEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The free space of the file system holding the store, for `/ready`: a full disk refuses every
/// write while reads go on, so a read alone would call the node ready.
struct StoreDiskSpace {
    let folder: String
    /// Below this, the node is not ready: a commit of a step may need that much.
    var minimumFreeBytes: UInt64 = 1 << 20

    /// Throws when less than `minimumFreeBytes` are free (to this process: root may use the
    /// blocks a file system keeps back).
    func check() throws {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return }
        let blocks = geteuid() == 0 ? UInt64(info.f_bfree) : UInt64(info.f_bavail)
        let free = blocks * UInt64(info.f_frsize)
        guard free >= minimumFreeBytes else {
            throw StoreUnavailable(reason: "the disk of the store (\(folder)) has \(free) bytes free; free some space")
        }
    }
}
