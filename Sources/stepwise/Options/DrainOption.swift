import ArgumentParser

/// `--drain-delay` of a server command (`serve`, `runner`): how long a stopping node tells load
/// balancers it is leaving before its listener closes.
struct DrainOption: ParsableArguments {
    @Option(
        name: .customLong("drain-delay"), parsing: .unconditional,
        help: "On SIGTERM or SIGINT, how long /ready answers 503 while the node goes on serving, before its listener closes: time for a load balancer to stop sending it requests (a little more than its readiness check's interval). The shutdown timeout follows it.")
    var drainDelay = DurationArgument("0s", .zero)
}
