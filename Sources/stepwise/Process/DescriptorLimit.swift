#if canImport(Glibc)
import Glibc

private let descriptorResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
import Darwin

private let descriptorResource = RLIMIT_NOFILE
#endif

/// The process's limit on open file descriptors (`ulimit -n`) and the client connections it
/// leaves room for. A server that accepts connections past it fails every `accept` with EMFILE,
/// and its accept loop then spins a core without a word; connections are capped below it instead.
struct DescriptorLimit {
    /// The soft limit in force (`Int.max`: none).
    let soft: Int

    /// The limit after raising the soft limit to the hard one where it is lower, as Go's runtime
    /// and nginx do: a shell's default of 1,024 is no limit a server is meant to run under.
    static func raised() -> DescriptorLimit {
        var limit = rlimit()
        guard getrlimit(descriptorResource, &limit) == 0 else { return DescriptorLimit(soft: .max) }
        if limit.rlim_cur < limit.rlim_max {
            var wanted = limit
            // Linux refuses more than its fs.nr_open, a million by default, whatever the hard limit says.
            wanted.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 1 << 20))
            if setrlimit(descriptorResource, &wanted) == 0 { limit = wanted }
        }
        // RLIM_INFINITY is the largest value a limit holds: clamped, it reads as no limit.
        return DescriptorLimit(soft: Int(clamping: limit.rlim_cur))
    }

    /// Descriptors kept for what is not a client connection: the listener, the store and its WAL,
    /// outgoing HTTP connections, the logs.
    var reserved: Int { min(64, max(16, soft / 4)) }

    /// `requested` connections, or as many as the limit leaves beside `reserved` when that is
    /// fewer, with a warning saying so.
    func connections(_ requested: Int) -> (allowed: Int, warning: String?) {
        guard soft != .max, requested > soft - reserved else { return (requested, nil) }
        let allowed = max(1, soft - reserved)
        return (allowed, "--max-connections \(requested) is more than this process's descriptor limit (ulimit -n \(soft)) leaves room for: at most \(allowed) connections are served at once; raise the limit for more")
    }
}
