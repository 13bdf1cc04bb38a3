import NIOCore
import NIOEmbedded
import Testing

@testable import StepwiseServer

/// Which connections a full server asks to close, on channels that record the request.
@Suite("Reclaimable connections")
struct ReclaimableConnectionsTests {
    /// Records whether its channel was asked to close (`ChannelShouldQuiesceEvent`).
    final class QuiesceRecorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = Never
        var asked = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { asked = true }
        }
    }

    private func channel() -> (EmbeddedChannel, QuiesceRecorder) {
        let recorder = QuiesceRecorder()
        return (EmbeddedChannel(handler: recorder), recorder)
    }

    @Test("one connection is asked to close for each client the full server makes room for: one idling while another closes is kept")
    func oneReclaimAtATime() {
        let reclaimable = ReclaimableConnections()
        let (first, firstAsked) = channel()
        let (second, secondAsked) = channel()
        let (third, thirdAsked) = channel()
        reclaimable.idling(first)
        reclaimable.idling(second)
        reclaimable.opened(3, of: 3)
        #expect(firstAsked.asked && !secondAsked.asked, "the connection idle longest makes room")
        reclaimable.idling(third)
        #expect(!thirdAsked.asked, "a connection idling while the first closes is kept")
        reclaimable.gone(first)
        reclaimable.closed(2, of: 3)
        reclaimable.opened(3, of: 3)
        #expect(secondAsked.asked && !thirdAsked.asked, "the next client makes room with the next idle connection")
    }

    @Test("a server past its maximum (one accept took several connections) asks as many to close as it takes to accept the next client")
    func roomForSeveralAtOnce() {
        let reclaimable = ReclaimableConnections()
        let recorded = (0..<3).map { _ in channel() }
        for (connection, _) in recorded { reclaimable.idling(connection) }
        reclaimable.opened(4, of: 3)
        #expect(recorded.map(\.1.asked) == [true, true, false], "two of four must close for the next client to get in")
        reclaimable.gone(recorded[0].0)
        reclaimable.closed(3, of: 3)
        #expect(!recorded[2].1.asked, "one more closing already makes the room")
    }

    @Test("a full server whose reclaimed connection has not closed within its grace asks the next one: its response may be long")
    func aSlowCloseDoesNotBlockTheNext() async throws {
        let reclaimable = ReclaimableConnections()
        let (first, _) = channel()
        let (second, secondAsked) = channel()
        reclaimable.idling(first)
        reclaimable.opened(2, of: 2)
        try await Task.sleep(for: .nanoseconds(ReclaimableConnections.closingGrace.nanoseconds) + .milliseconds(100))
        reclaimable.idling(second)
        #expect(secondAsked.asked, "still full, the first not closed after the grace: the one idling now makes room")
    }
}
