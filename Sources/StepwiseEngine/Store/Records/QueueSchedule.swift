import StepwiseExpressions
import StepwiseProtocol

/// A QStash schedule (`POST /v2/schedules/{destination}`): the message it publishes on every tick
/// of its cron expression, kept as the headers and body it was created with, and when it fires.
public struct QueueSchedule: Sendable, Equatable {
    /// `scd_…` when the client chose none.
    public var id: String
    /// Where each tick's message goes.
    public var destination: String
    /// Five cron fields, without `CRON_TZ=`.
    public var cron: String
    /// The IANA zone of `CRON_TZ=`; UTC when `nil`.
    public var timeZone: String?
    /// The message's `Upstash-*` headers and `Content-Type`, as received.
    public var headers: [ForwardedHeader]
    /// The message's body.
    public var body: [UInt8]?
    /// A paused schedule skips its ticks.
    public var paused: Bool
    public var createdAt: TimestampValue
    /// The next tick; `nil` when the expression fires no more.
    public var nextFireAt: TimestampValue?
    /// The tick that fired last.
    public var lastFireAt: TimestampValue?
    /// The message the last tick published.
    public var lastMessageId: String?
    /// The IP address of the client that created it (or replaced it last), which its ticks'
    /// messages carry as theirs; `nil` when unknown.
    public var callerIp: String?

    /// A schedule with the given parts.
    public init(
        id: String, destination: String, cron: String, timeZone: String?, headers: [ForwardedHeader], body: [UInt8]?, paused: Bool = false,
        createdAt: TimestampValue, nextFireAt: TimestampValue?, lastFireAt: TimestampValue? = nil, lastMessageId: String? = nil,
        callerIp: String? = nil
    ) {
        self.id = id
        self.destination = destination
        self.cron = cron
        self.timeZone = timeZone
        self.headers = headers
        self.body = body
        self.paused = paused
        self.createdAt = createdAt
        self.nextFireAt = nextFireAt
        self.lastFireAt = lastFireAt
        self.lastMessageId = lastMessageId
        self.callerIp = callerIp
    }

    /// `Upstash-Cron` as the client wrote it.
    public var cronHeader: String { timeZone.map { "CRON_TZ=\($0) \(cron)" } ?? cron }

    /// The message one tick publishes: the stored one, delivered with `Upstash-Schedule-Id`, from
    /// the schedule's caller.
    public func tickMessage() throws(ProtocolError) -> PublishedMessage {
        var fields = HeaderFields(headers.map { ($0.name, $0.value) })
        fields.append("Upstash-Forward-Upstash-Schedule-Id", id)
        var message = try PublishedMessage(destination: destination, headers: fields, body: body)
        message.callerIp = callerIp
        return message
    }
}
