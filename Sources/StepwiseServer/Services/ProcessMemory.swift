import CMalloc

/// Settings of the process's allocator for long-running servers.
public enum ProcessMemory {
    /// glibc's default of 8 arenas per core leaves freed memory spread over many arenas, which
    /// trimming cannot fully return. Measured settled RSS (`scripts/parked_memory.py`, release,
    /// 2 cores): 100,000 parked runs of 0.85 KB 271 MiB with the default arenas, 128 MiB with 4,
    /// 90 MiB with 2; 1,000 runs of 0.9 MB 129, 129 and 156 MiB. Four keeps both within the
    /// budget with room. Call first thing, before any thread starts; a no-op off glibc.
    public static func limitArenas(to count: Int = 4) {
        _ = cmalloc_limit_arenas(Int32(count))
    }
}
