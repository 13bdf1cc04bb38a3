import ArgumentParser
import Logging
import StepwiseServer

/// The connection limits of a server command (`serve`, `runner`): how long a connection may idle
/// or take over a request, and how many are served at once, so that silent or slow clients
/// cannot hold every connection.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("idle-timeout"), parsing: .unconditional, help: "Close a connection with no request in progress after this long.")
    var idleTimeout = DurationArgument("60s", .seconds(60))

    @Option(name: .customLong("header-timeout"), parsing: .unconditional, help: "Close a connection whose request head takes longer, from its first byte (a new connection's first request: from its opening).")
    var headerTimeout = DurationArgument("10s", .seconds(10))

    @Option(name: .customLong("body-timeout"), parsing: .unconditional, help: "Close a connection whose request body takes longer.")
    var bodyTimeout = DurationArgument("30s", .seconds(30))

    @Option(name: .customLong("max-connections"), parsing: .unconditional, help: "Connections served at once; more wait until one closes.")
    var maxConnections = ConnectionLimits().maximumConnections

    func validate() throws {
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
        for (name, timeout) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout)] {
            guard timeout.duration > .zero else { throw ValidationError("\(name) must be longer than 0s") }
        }
    }

    /// The limits these options set, with requests' bodies up to `maximumMessageBytes` and no
    /// more connections than the process's descriptor limit (raised to its hard limit first)
    /// leaves room for, a warning logged when that is fewer than asked.
    func limits(maximumMessageBytes: Int) -> ConnectionLimits {
        let (allowed, warning) = DescriptorLimit.raised().connections(maxConnections)
        if let warning { Logger(label: "stepwise").warning("\(warning)") }
        return ConnectionLimits(
            idleTimeout: idleTimeout.duration, headerTimeout: headerTimeout.duration, bodyTimeout: bodyTimeout.duration,
            maximumConnections: allowed, maximumMessageBytes: maximumMessageBytes)
    }
}
