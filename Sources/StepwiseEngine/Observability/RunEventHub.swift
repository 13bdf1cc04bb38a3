import Foundation
import Synchronization

/// Hands every `RunEvent` the engine publishes to each current subscriber. A subscriber that
/// reads slowly loses its oldest undelivered events (a bounded buffer), never slows the engine.
public final class RunEventHub: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<RunEvent>.Continuation]>([:])
    /// The key of the next subscriber: a count, unique for the hub's life.
    private let nextKey = Mutex(0)

    /// Events buffered per subscriber before the oldest are dropped.
    public static let buffer = 1_024

    public init() {}

    /// The events published from now on, until the stream's consumer stops reading it.
    public func subscribe() -> AsyncStream<RunEvent> {
        let id = nextKey.withLock { key in
            defer { key += 1 }
            return key
        }
        let (stream, continuation) = AsyncStream<RunEvent>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Whether anyone is subscribed: an event that costs a read to describe is made only then.
    var hasSubscribers: Bool { subscribers.withLock { !$0.isEmpty } }

    /// How many streams are subscribed now (feeds being followed).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Hands `event` to every subscriber.
    func publish(_ event: RunEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }
}
