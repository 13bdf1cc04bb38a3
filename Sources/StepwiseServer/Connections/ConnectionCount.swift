import HummingbirdCore

/// Hummingbird's connection limit (no new connection is accepted while `maximum` are open) that
/// tells `IdleConnections` when the server is full, so that an idle keep-alive connection makes
/// room for a new client at once.
struct ConnectionCount: AvailableConnectionsDelegate {
    let maximum: Int
    let idle: IdleConnections
    private var open = 0

    init(maximum: Int, idle: IdleConnections) {
        self.maximum = maximum
        self.idle = idle
    }

    mutating func connectionOpened() {
        open += 1
        idle.opened(open, of: maximum)
    }

    mutating func connectionClosed() {
        open -= 1
        idle.closed(open, of: maximum)
    }

    func isAcceptingNewConnections() -> Bool {
        open < maximum
    }
}
