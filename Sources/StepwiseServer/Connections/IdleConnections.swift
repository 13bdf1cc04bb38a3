import NIOCore
import Synchronization

/// The connections idling between requests (HTTP keep-alive), so that a server with every
/// connection it may serve open makes those that idle close rather than leave a new client in
/// the listen backlog until an idle timeout ends one: a few hundred clients that made one
/// request each and kept their connections otherwise locked everyone out for a minute. The
/// longest idle goes first, as nginx reuses its idle keep-alive connections.
///
/// A connection is asked to close with `ChannelShouldQuiesceEvent`, on its own event loop:
/// Hummingbird's connection handler then closes it at once when no request is in progress, or
/// after the response to the one that began meanwhile, never cutting a request or a response.
final class IdleConnections: Sendable {
    private struct State {
        var idle: [ObjectIdentifier: (channel: any Channel, order: UInt64)] = [:]
        var order: UInt64 = 0
        var full = false
    }

    private let state = Mutex(State())

    /// `channel`'s response was written whole and it waits for its next request: asked to close
    /// while the server is full, kept otherwise.
    func idling(_ channel: any Channel) {
        let close = state.withLock { state in
            guard !state.full else { return true }
            state.order += 1
            state.idle[ObjectIdentifier(channel)] = (channel, state.order)
            return false
        }
        if close { Self.quiesce(channel) }
    }

    /// `channel` started a request, or closed: it is no longer idle.
    func busy(_ channel: any Channel) {
        state.withLock { _ = $0.idle.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// `open` connections are open of the `maximum` the server serves. While it is full, each
    /// connection opened asks the connection idle longest to close, making room for the next
    /// client (one accept may take several connections at once).
    func opened(_ open: Int, of maximum: Int) {
        let longestIdle = state.withLock { state -> (any Channel)? in
            state.full = open >= maximum
            guard state.full, let oldest = state.idle.min(by: { $0.value.order < $1.value.order }) else { return nil }
            state.idle[oldest.key] = nil
            return oldest.value.channel
        }
        longestIdle.map(Self.quiesce)
    }

    /// A connection closed, leaving `open` of the `maximum`.
    func closed(_ open: Int, of maximum: Int) {
        state.withLock { $0.full = open >= maximum }
    }

    private static func quiesce(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}
