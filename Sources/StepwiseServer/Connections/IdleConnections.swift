import NIOCore
import Synchronization

/// The connections idling between requests (HTTP keep-alive), so that a server with every
/// connection it may serve open closes those that idle rather than leave a new client in the
/// listen backlog until an idle timeout ends one: a few hundred clients that made one request
/// each and kept their connections otherwise locked everyone out for a minute. The longest idle
/// goes first, as nginx reuses its idle keep-alive connections.
final class IdleConnections: Sendable {
    private struct State {
        var idle: [ObjectIdentifier: (channel: any Channel, order: UInt64)] = [:]
        var order: UInt64 = 0
        var full = false
    }

    private let state = Mutex(State())

    /// `channel` finished a response and waits for its next request: closed at once while the
    /// server is full, kept otherwise.
    func idling(_ channel: any Channel) {
        let close = state.withLock { state in
            guard !state.full else { return true }
            state.order += 1
            state.idle[ObjectIdentifier(channel)] = (channel, state.order)
            return false
        }
        if close { channel.close(promise: nil) }
    }

    /// `channel` started a request, or closed: it is no longer idle.
    func busy(_ channel: any Channel) {
        state.withLock { _ = $0.idle.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The server has `full` every connection it may serve open, or no longer: when it becomes
    /// full, the connection idle longest is closed, making room for the next client.
    func serverIsFull(_ full: Bool) {
        let longestIdle = state.withLock { state -> (any Channel)? in
            let becameFull = full && !state.full
            state.full = full
            guard becameFull, let oldest = state.idle.min(by: { $0.value.order < $1.value.order }) else { return nil }
            state.idle[oldest.key] = nil
            return oldest.value.channel
        }
        longestIdle?.close(promise: nil)
    }
}
