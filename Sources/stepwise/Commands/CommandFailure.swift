/// A command's failure with the exit status Stepwise promises: 1 for failed work, 2 for usage and I/O.
enum CommandFailure: Error, CustomStringConvertible {
    case failed(String)
    case usage(String)
    /// The server could not be reached (refused, timed out): a usage error, which a follower of
    /// a run may wait out while the server restarts.
    case unreachable(String)

    var description: String {
        switch self {
        case .failed(let message), .usage(let message), .unreachable(let message): message
        }
    }

    var exitCode: Int32 {
        switch self {
        case .failed: 1
        case .usage, .unreachable: 2
        }
    }
}
