import HummingbirdCore

/// Hummingbird's connection limit (no new connection is accepted while `maximum` are open) that
/// tells `ReclaimableConnections` when the server is full, so that an idle keep-alive connection makes
/// room for a new client at once.
struct ConnectionCount: AvailableConnectionsDelegate {
    let maximum: Int
    let reclaimable: ReclaimableConnections
    private var open = 0

    init(maximum: Int, reclaimable: ReclaimableConnections) {
        self.maximum = maximum
        self.reclaimable = reclaimable
    }

    mutating func connectionOpened() {
        open += 1
        reclaimable.opened(open, of: maximum)
    }

    mutating func connectionClosed() {
        open -= 1
        reclaimable.closed(open, of: maximum)
    }

    func isAcceptingNewConnections() -> Bool {
        open < maximum
    }
}
