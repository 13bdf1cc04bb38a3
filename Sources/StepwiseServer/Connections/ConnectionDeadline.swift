import NIOCore

/// The one deadline a connection is under, by phase: idle between requests, reading a request's
/// head (from its first byte), reading its body, or none while the application answers. When it
/// passes, the connection is closed.
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
    private var phase = Phase.idle
    private var timer: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// The connection opened: it may stay idle for the idle timeout.
    func opened(_ channel: any Channel) {
        enter(.idle, on: channel)
    }

    /// Bytes arrived; the first ones after idling start a request's head.
    func bytesArrived(on channel: any Channel) {
        if phase == .idle { enter(.readingHead, on: channel) }
    }

    /// A request's head was parsed: its body has the body timeout.
    func headParsed(on channel: any Channel) {
        enter(.readingBody, on: channel)
    }

    /// The request was read whole: the application answers, under no deadline of ours.
    func requestEnded(on channel: any Channel) {
        enter(.answering, on: channel)
    }

    /// The response was written whole: the connection idles until the next request. Returns
    /// false when the answer came before the request's body was read (a 413 on `Content-Length`):
    /// then the connection must close, or the rest of that body would have to be read first.
    func responseEnded(on channel: any Channel) -> Bool {
        switch phase {
        case .answering:
            enter(.idle, on: channel)
            return true
        case .readingBody:
            return false
        case .idle, .readingHead:
            return true
        }
    }

    /// The connection closed: nothing more to time.
    func closed() {
        timer?.cancel()
        timer = nil
    }

    private func enter(_ next: Phase, on channel: any Channel) {
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
