/// How long a client may take and how many may connect at once, so that idle or deliberately
/// slow clients (slowloris) cannot hold the server's connections or file descriptors.
public struct ConnectionLimits: Sendable, Equatable {
    /// How long a connection may stay open with no request in progress.
    public var idleTimeout: Duration
    /// How long a request's head may take, from its first byte to its last.
    public var headerTimeout: Duration
    /// How long a request's body may take, from the end of its head to its last byte.
    public var bodyTimeout: Duration
    /// Connections served at once; more wait in the listen backlog until one closes.
    public var maximumConnections: Int

    /// Limits with the documented defaults: idle 60 s, head 10 s, body 30 s, 512 connections.
    public init(
        idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        maximumConnections: Int = 512
    ) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maximumConnections = maximumConnections
    }
}
