import NIOCore
import Synchronization

/// The connections a full server may close to make room for a new client: those idling between
/// requests (HTTP keep-alive), and those whose client has read none of their answers for
/// `stallGrace` (the socket's buffers full all that time; a large answer to a slow client fills
/// them for moments, which is no reason to cut it). A server with every connection it may serve open would otherwise
/// leave a new client in the listen backlog until a timeout ends one: a few hundred clients that
/// made one request each and kept their connections locked everyone out for a minute, and so did
/// four that sent many requests and read no answer. The longest idle goes first, as nginx reuses
/// its idle keep-alive connections.
///
/// An idle connection is asked to close with `ChannelShouldQuiesceEvent`, on its own event loop:
/// Hummingbird's connection handler then closes it at once when no request is in progress, or
/// after the response to the one that began meanwhile, never cutting a request or a response. A
/// connection whose client reads nothing is closed outright: its response would never end.
final class ReclaimableConnections: Sendable {
    private struct State {
        var idle: [ObjectIdentifier: (channel: any Channel, order: UInt64)] = [:]
        var stalled: [ObjectIdentifier: (channel: any Channel, order: UInt64, since: NIODeadline)] = [:]
        /// The connections asked to close to make room, and when.
        var closing: [ObjectIdentifier: NIODeadline] = [:]
        var order: UInt64 = 0
        var open = 0
        var maximum = Int.max

        mutating func nextOrder() -> UInt64 {
            order += 1
            return order
        }

        /// How many more connections must close before the server accepts its next client: the
        /// open ones past the maximum and one, less those asked to close within `closingGrace`.
        /// Counting those keeps a full server from closing two connections for one newcomer;
        /// counting the excess makes room when one accept took several connections at once.
        func shortfall(at now: NIODeadline) -> Int {
            guard open >= maximum else { return 0 }
            let making = closing.values.count { now - $0 < ReclaimableConnections.closingGrace }
            return open - maximum + 1 - making
        }

        /// The connection to close next: the one idle longest, or else the one whose client
        /// has read nothing longest, for `stallGrace` at least.
        func next(at now: NIODeadline) -> (channel: any Channel, idle: Bool)? {
            if let oldest = idle.values.min(by: { $0.order < $1.order }) { return (oldest.channel, true) }
            guard let oldest = stalled.values.min(by: { $0.order < $1.order }), oldest.since <= now - ReclaimableConnections.stallGrace
            else { return nil }
            return (oldest.channel, false)
        }

        mutating func reclaim(_ channel: any Channel, at now: NIODeadline) {
            idle[ObjectIdentifier(channel)] = nil
            stalled[ObjectIdentifier(channel)] = nil
            closing[ObjectIdentifier(channel)] = now
        }
    }

    private let state = Mutex(State())

    /// How long a client may read nothing before a full server may close its connection.
    static let stallGrace = TimeAmount.seconds(5)

    /// How long a connection asked to close counts as making room: an idle one closes at once
    /// (though a loaded machine may take seconds to report it: a second was too short in CI, and
    /// the server then closed the connections a newcomer did not need), but one whose request
    /// began meanwhile closes after its response, which may be a long one (a change feed), and
    /// the next client should not wait for that much longer.
    static let closingGrace = TimeAmount.seconds(5)

    /// `channel`'s response was written whole and it waits for its next request: asked to close
    /// while the server needs room, kept otherwise.
    func idling(_ channel: any Channel) {
        let close = state.withLock { state in
            let now = NIODeadline.now()
            guard state.shortfall(at: now) <= 0 else {
                state.reclaim(channel, at: now)
                return true
            }
            state.idle[ObjectIdentifier(channel)] = (channel, state.nextOrder())
            return false
        }
        if close { ask(channel, idle: true) }
    }

    /// `channel`'s client stopped reading what it is sent: if it still reads nothing after
    /// `stallGrace` while the server needs room, the connection is closed (a slow client reads on).
    func stalled(_ channel: any Channel) {
        let order = state.withLock { state in
            let order = state.nextOrder()
            state.stalled[ObjectIdentifier(channel)] = (channel, order, .now())
            return order
        }
        channel.eventLoop.scheduleTask(in: Self.stallGrace) { [self] in closeIfStalled(channel, since: order) }
    }

    /// Closes `channel` if it has read nothing since it stalled as `order` and the server needs room.
    private func closeIfStalled(_ channel: any Channel, since order: UInt64) {
        let close = state.withLock { state in
            let now = NIODeadline.now()
            guard state.shortfall(at: now) > 0, let stalled = state.stalled[ObjectIdentifier(channel)], stalled.order == order else { return false }
            state.reclaim(channel, at: now)
            return true
        }
        if close { ask(channel, idle: false) }
    }

    /// `channel`'s client reads again.
    func flowing(_ channel: any Channel) {
        state.withLock { _ = $0.stalled.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// `channel` started a request, or closed: it is no longer idle.
    func busy(_ channel: any Channel) {
        state.withLock { _ = $0.idle.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// `channel` closed: it is neither idle nor stalled, nor closing.
    func gone(_ channel: any Channel) {
        state.withLock { state in
            state.idle[ObjectIdentifier(channel)] = nil
            state.stalled[ObjectIdentifier(channel)] = nil
            state.closing[ObjectIdentifier(channel)] = nil
        }
    }

    /// `open` connections are open of the `maximum` the server serves: while it is full, as many
    /// connections are asked to close as it takes to accept the next client.
    func opened(_ open: Int, of maximum: Int) {
        makeRoom(counting: (open, maximum))
    }

    /// A connection closed, leaving `open` of the `maximum` (still past it, when one accept took
    /// several connections at once).
    func closed(_ open: Int, of maximum: Int) {
        makeRoom(counting: (open, maximum))
    }

    /// Asks connections to close, longest idle first, until the server's shortfall is made up
    /// or none is left to ask; `counting` is a new count of the open connections, if one came.
    private func makeRoom(counting count: (open: Int, maximum: Int)? = nil) {
        let reclaimed = state.withLock { state -> [(channel: any Channel, idle: Bool)] in
            if let count { (state.open, state.maximum) = count }
            let now = NIODeadline.now()
            var reclaimed: [(channel: any Channel, idle: Bool)] = []
            while state.shortfall(at: now) > 0, let next = state.next(at: now) {
                state.reclaim(next.channel, at: now)
                reclaimed.append(next)
            }
            return reclaimed
        }
        for connection in reclaimed { ask(connection.channel, idle: connection.idle) }
    }

    /// Asks `channel` to close: an idle one gracefully, a stalled one outright. Once the grace
    /// of a close passed, the room is looked at again: a connection whose response began before
    /// it was asked may still be open, and the next client should not wait for it.
    private func ask(_ channel: any Channel, idle: Bool) {
        if idle { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) } else { channel.close(promise: nil) }
        channel.eventLoop.scheduleTask(in: Self.closingGrace) { [self] in makeRoom() }
    }
}
