/// How long a client may take, how many may connect at once and how much a message may carry, so
/// that idle or deliberately slow clients (slowloris) cannot hold the server's connections or
/// file descriptors, and no request makes the server hold more than the operator allows.
public struct ConnectionLimits: Sendable, Equatable {
    /// How long a connection may stay open with no request in progress.
    public var idleTimeout: Duration
    /// How long a request's head may take, from its first byte to its last.
    public var headerTimeout: Duration
    /// How long a request's body may take, from the end of its head to its last byte.
    public var bodyTimeout: Duration
    /// Connections served at once; more wait in the listen backlog until one closes.
    public var maximumConnections: Int
    /// `stepwise serve`: the largest body of a published, enqueued or batched message (the
    /// batch's whole body), a trigger, a schedule, a notify, a wait or a run's end; every other request's
    /// body is bounded by 1 MiB. `stepwise runner`: the largest delivery (its run's whole log).
    public var maximumMessageBytes: Int

    /// Limits with the documented defaults: idle 60 s, head 10 s, body 30 s, 512 connections,
    /// messages of 1 MiB (QStash's free plan).
    public init(
        idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        maximumConnections: Int = 512, maximumMessageBytes: Int = 1 << 20
    ) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maximumConnections = maximumConnections
        self.maximumMessageBytes = maximumMessageBytes
    }
}
