import Foundation

/// Who holds a lease: a node's name and the process running it (host, process id, the process's
/// start time). Unique per process however nodes are named, so two nodes never take each other's
/// leases for their own; and a node that restarts on the same host can tell that its
/// predecessor's leases belong to a process that is gone, and release them at once instead of
/// waiting for them to expire. Written `node/host/pid/start`, where `host` is the host name with
/// its boot and process-id namespace.
public struct LeaseOwner: Sendable, Equatable, CustomStringConvertible {
    /// The node's name (`--node-id`; the host name by default).
    public let node: String
    /// Where process ids mean something: the host name, its boot and its process-id namespace
    /// (containers may share a host name, not a boot and a namespace).
    public let host: String
    /// The process id, within `host`.
    public let pid: Int32
    /// When the process started, as the system tells it (or a random value where it cannot).
    public let started: String

    /// An owner with the given parts.
    public init(node: String, host: String, pid: Int32, started: String) {
        self.node = node
        self.host = host
        self.pid = pid
        self.started = started
    }

    /// Process `pid` of this host as it writes itself, as node `node`; `nil` when its start
    /// time cannot be read (no such process, or no `/proc`).
    public static func process(_ pid: Int32, node: String) -> LeaseOwner? {
        ProcessProbe.startTime(of: pid).map { LeaseOwner(node: node, host: thisProcess.host, pid: pid, started: $0) }
    }

    /// This process, as node `node` (the host name when `nil`).
    public static func current(node: String? = nil) -> LeaseOwner {
        let process = thisProcess
        return LeaseOwner(node: node ?? process.hostName, host: process.host, pid: process.pid, started: process.started)
    }

    /// This process's parts, read once (reading the host name is not safe from several threads at
    /// once with Foundation's `ProcessInfo.hostName`; `gethostname` is).
    private static let thisProcess: (hostName: String, host: String, pid: Int32, started: String) = {
        var buffer = [CChar](repeating: 0, count: 256)
        let hostName = gethostname(&buffer, buffer.count) == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        let pid = getpid()
        return (
            hostName, ([hostName] + ProcessProbe.namespace).joined(separator: "~"), pid,
            ProcessProbe.startTime(of: pid) ?? String(UInt64.random(in: 1...UInt64.max), radix: 36)
        )
    }()

    /// Reads an owner as written; `nil` for a name in another form (a node of an older version, a test).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, let pid = Int32(parts[parts.count - 2]) else { return nil }
        self.init(
            node: parts.dropLast(3).joined(separator: "/"), host: String(parts[parts.count - 3]), pid: pid,
            started: String(parts[parts.count - 1]))
    }

    /// `node/host/pid/start`, as leases store it.
    public var description: String { "\(node)/\(host)/\(pid)/\(started)" }

    /// Whether this owner is certainly dead as seen from `self`'s host: it ran here, and its
    /// process is gone or is another process now. An owner on another host is never certainly
    /// dead: its leases expire unless it renews them.
    public func isCertainlyDead(seenFrom observer: LeaseOwner) -> Bool {
        guard host == observer.host else { return false }
        if pid == observer.pid { return started != observer.started }
        guard ProcessProbe.isRunning(pid) else { return true }
        return ProcessProbe.startTime(of: pid).map { $0 != started } ?? false
    }
}

/// What the system tells about a process.
enum ProcessProbe {
    /// The start time of process `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`),
    /// `nil` where there is no `/proc` or no such process.
    static func startTime(of pid: Int32) -> String? {
        statFields(of: pid).flatMap { $0.count > 19 ? String($0[19]) : nil }
    }

    /// Whether process `pid` has exited but was not reaped yet (a zombie, state `Z`, or `X`): it
    /// holds nothing any more, though it can still be signalled. A node started by an init
    /// script that reaps late found its predecessor "running" and left its leases to expire.
    static func hasExited(_ pid: Int32) -> Bool {
        guard let state = statFields(of: pid)?.first else { return false }
        return state == "Z" || state == "X"
    }

    /// The fields of `/proc/<pid>/stat` after the command name (which may itself hold spaces and
    /// parentheses), from the state (field 3) on.
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// This boot of the machine and this process-id namespace, where the system tells them.
    static var namespace: [String] {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)).map { String($0.prefix(8)) }
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        return [boot, link.map { String($0.filter(\.isNumber)) }].compactMap { $0 }
    }

    /// Whether a process with id `pid` exists (one we may not signal exists too) and has not exited.
    static func isRunning(_ pid: Int32) -> Bool {
        (kill(pid, 0) == 0 || errno == EPERM) && !hasExited(pid)
    }
}
