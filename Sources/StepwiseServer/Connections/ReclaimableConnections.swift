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
        /// The connections asked to close to make room, and when; until one of them closes (or
        /// `closingGrace` passed) no other is reclaimed: one slot freed per client is enough.
        var closing: [ObjectIdentifier: NIODeadline] = [:]
        var order: UInt64 = 0
        var full = false

        mutating func nextOrder() -> UInt64 {
            order += 1
            return order
        }

        /// Full, and no connection already asked to close is making room: the server needs one
        /// more closed. (Without the second part, a connection idling while the one reclaimed
        /// before was still closing was closed too: two closed for one newcomer.)
        func needsRoom(at now: NIODeadline) -> Bool {
            full && !closing.values.contains { now - $0 < ReclaimableConnections.closingGrace }
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

    /// How long a connection asked to close counts as making room: an idle one closes at once,
    /// but one whose request began meanwhile closes after its response, which may be a long one
    /// (a change feed), and the next client should not wait for that.
    static let closingGrace = TimeAmount.seconds(1)

    /// `channel`'s response was written whole and it waits for its next request: asked to close
    /// while the server is full, kept otherwise.
    func idling(_ channel: any Channel) {
        let close = state.withLock { state in
            let now = NIODeadline.now()
            guard !state.needsRoom(at: now) else {
                state.reclaim(channel, at: now)
                return true
            }
            state.idle[ObjectIdentifier(channel)] = (channel, state.nextOrder())
            return false
        }
        if close { Self.quiesce(channel) }
    }

    /// `channel`'s client stopped reading what it is sent: if it still reads nothing after
    /// `stallGrace` while the server is full, the connection is closed (a slow client reads on).
    func stalled(_ channel: any Channel) {
        let order = state.withLock { state in
            let order = state.nextOrder()
            state.stalled[ObjectIdentifier(channel)] = (channel, order, .now())
            return order
        }
        channel.eventLoop.scheduleTask(in: Self.stallGrace) { [self] in closeIfStalled(channel, since: order) }
    }

    /// Closes `channel` if it has read nothing since it stalled as `order` and the server is full.
    private func closeIfStalled(_ channel: any Channel, since order: UInt64) {
        let close = state.withLock { state in
            let now = NIODeadline.now()
            guard state.needsRoom(at: now), let stalled = state.stalled[ObjectIdentifier(channel)], stalled.order == order else { return false }
            state.reclaim(channel, at: now)
            return true
        }
        if close { channel.close(promise: nil) }
    }

    /// `channel`'s client reads again.
    func flowing(_ channel: any Channel) {
        state.withLock { _ = $0.stalled.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// `channel` started a request, or closed: it is no longer idle.
    func busy(_ channel: any Channel) {
        state.withLock { _ = $0.idle.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// `channel` closed: it is neither idle nor stalled.
    func gone(_ channel: any Channel) {
        state.withLock { state in
            state.idle[ObjectIdentifier(channel)] = nil
            state.stalled[ObjectIdentifier(channel)] = nil
            state.closing[ObjectIdentifier(channel)] = nil
        }
    }

    /// `open` connections are open of the `maximum` the server serves. While it is full, each
    /// connection opened makes room for the next client (one accept may take several
    /// connections at once): the connection idle longest is asked to close, or else the one
    /// whose client has read nothing longest, for `stallGrace` at least, is closed.
    func opened(_ open: Int, of maximum: Int) {
        let reclaimed = state.withLock { state -> (channel: any Channel, idle: Bool)? in
            state.full = open >= maximum
            let now = NIODeadline.now()
            guard state.needsRoom(at: now) else { return nil }
            if let oldest = state.idle.min(by: { $0.value.order < $1.value.order }) {
                state.reclaim(oldest.value.channel, at: now)
                return (oldest.value.channel, true)
            }
            guard let oldest = state.stalled.min(by: { $0.value.order < $1.value.order }), oldest.value.since <= now - Self.stallGrace else { return nil }
            state.reclaim(oldest.value.channel, at: now)
            return (oldest.value.channel, false)
        }
        guard let reclaimed else { return }
        if reclaimed.idle { Self.quiesce(reclaimed.channel) } else { reclaimed.channel.close(promise: nil) }
    }

    /// A connection closed, leaving `open` of the `maximum`.
    func closed(_ open: Int, of maximum: Int) {
        state.withLock { $0.full = open >= maximum }
    }

    private static func quiesce(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}
