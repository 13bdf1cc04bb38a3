import NIOCore

/// The one deadline a connection is under, by phase: idle between requests, reading a request's
/// head (from its first byte; the first request's from the connection's opening), reading its
/// body, or none while the application answers. When it passes, the connection is closed.
///
/// Shared by `RawBytesWatcher` (which sees the first byte of a request, before any parsing) and
/// `RequestPartsWatcher` (which sees the parsed head, the end of the body and the end of the
/// response); both run on the connection's event loop, which is the only place it is touched.
final class ConnectionDeadline {
    private enum Phase {
        case idle
        case readingHead
        case readingBody
        case answering
    }

    private let limits: ConnectionLimits
    private let reclaimable: ReclaimableConnections
    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    /// The response went out before the request's body was read (an error answered early).
    private var answeredEarly = false

    init(limits: ConnectionLimits, reclaimable: ReclaimableConnections) {
        self.limits = limits
        self.reclaimable = reclaimable
    }

    /// The connection opened: its first request's head must come within the header timeout. A
    /// client that connects and sends nothing would otherwise hold one of the server's
    /// connections for the whole idle timeout, and a few hundred of them lock everyone out.
    func opened(_ channel: any Channel) {
        enter(.readingHead, on: channel)
    }

    /// Bytes arrived; the first ones after idling start a request's head.
    func bytesArrived(on channel: any Channel) {
        if phase == .idle { enter(.readingHead, on: channel) }
    }

    /// A request's head was parsed: its body has the body timeout.
    func headParsed(on channel: any Channel) {
        enter(.readingBody, on: channel)
    }

    /// The request was read whole: the application answers, under no deadline of ours (or, when
    /// it already has, the connection idles).
    func requestEnded(on channel: any Channel) {
        enter(answeredEarly ? .idle : .answering, on: channel)
        answeredEarly = false
    }

    /// The response was written whole: the connection idles until the next request. An answer
    /// that came before the request's body was read (an error answered early) leaves the rest
    /// of the body to be read and discarded, still under the body timeout.
    func responseEnded(on channel: any Channel) {
        switch phase {
        case .answering: enter(.idle, on: channel)
        case .readingBody: answeredEarly = true
        case .idle, .readingHead: break
        }
    }

    /// The connection closed: nothing more to time.
    func closed(_ channel: any Channel) {
        timer?.cancel()
        timer = nil
        reclaimable.gone(channel)
    }

    /// The client stopped reading (the socket's buffer is full, the channel unwritable), or reads
    /// again: a full server may close a connection whose answers nobody reads.
    func writabilityChanged(on channel: any Channel) {
        if channel.isWritable { reclaimable.flowing(channel) } else { reclaimable.stalled(channel) }
    }

    /// The response's last bytes were handed to the socket: a connection still idle (no request
    /// began meanwhile) and open is one a full server may ask to close. Not at `responseEnded`,
    /// whose write has not gone out yet: a close then would lose the response.
    func responseWritten(on channel: any Channel) {
        guard phase == .idle, channel.isActive else { return }
        reclaimable.idling(channel)
    }

    private func enter(_ next: Phase, on channel: any Channel) {
        if phase == .idle, next != .idle { reclaimable.busy(channel) }
        phase = next
        timer?.cancel()
        timer = nil
        let limit: Duration
        switch next {
        case .idle: limit = limits.idleTimeout
        case .readingHead: limit = limits.headerTimeout
        case .readingBody: limit = limits.bodyTimeout
        case .answering: return
        }
        let (seconds, attoseconds) = limit.components
        let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        timer = channel.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: amount) {
            channel.close(promise: nil)
        }
    }
}
