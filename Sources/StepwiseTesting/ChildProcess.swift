import Foundation

/// A program run to its end with `posix_spawn`, its outputs collected. Tests use it instead of
/// Foundation's `Process`, whose `run()` crashed the test process (a heap overflow while it
/// gathered file descriptors other tests were opening and closing at the same moment).
public struct ChildProcess: Sendable {
    /// How the program ended and what it printed.
    public struct Result: Sendable {
        /// The exit status; 128 + the signal's number when a signal ended it.
        public let status: Int32
        public let standardOutput: [UInt8]
        public let standardError: [UInt8]
    }

    /// A failure to start the program, with the system's error number.
    public struct LaunchFailure: Error, CustomStringConvertible {
        public let executable: String
        public let code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// Runs `executable` with `arguments` and this process's environment, `standardInput` on its
    /// standard input (none: `/dev/null`), and waits for it to end. Blocks the calling thread.
    public static func run(_ executable: String, _ arguments: [String], standardInput: [UInt8]? = nil) throws -> Result {
        let input = try pipe(), output = try pipe(), error = try pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if standardInput == nil {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, error.write, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        for fd in [input.read, output.write, error.write] { close(fd) }
        guard spawned == 0 else {
            for fd in [input.write, output.read, error.read] { close(fd) }
            throw LaunchFailure(executable: executable, code: spawned)
        }
        if let standardInput { write(all: standardInput, to: input.write) }
        close(input.write)
        let (out, err) = readBoth(output.read, error.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let signal = status & 0x7f
        return Result(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, standardOutput: out, standardError: err)
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw LaunchFailure(executable: "a pipe", code: errno) }
        // Other children started meanwhile must not hold these ends open.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    private static func write(all bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Reads both pipes to their ends at once, so neither output can fill up and block the child.
    private static func readBoth(_ first: Int32, _ second: Int32) -> ([UInt8], [UInt8]) {
        var collected: [Int32: [UInt8]] = [first: [], second: []]
        var open = [first, second]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 || errno == EINTR else { break }
            for entry in polled where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected[entry.fd, default: []] += buffer[..<count]
                } else if count == 0 || errno != EINTR {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        return (collected[first] ?? [], collected[second] ?? [])
    }
}
