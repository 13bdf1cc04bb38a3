/// `POST /v2/schedules/{destination}` (§10.2): a message published again on every tick of a cron
/// expression. `Upstash-Cron` holds five fields, optionally behind `CRON_TZ=<zone> `;
/// `Upstash-Schedule-Id` names the schedule (creating or replacing it); every other header is
/// the message's, as for `/v2/publish`.
public struct ScheduleRequest: Sendable {
    /// The path prefix of schedule creation.
    public static let pathPrefix = "/v2/schedules/"

    /// `Upstash-Schedule-Id`, when the client chose the id.
    public var scheduleId: String?
    /// The cron expression without its `CRON_TZ=` prefix.
    public var cron: String
    /// The IANA zone of `CRON_TZ=`; UTC when absent.
    public var timeZone: String?
    /// The message each tick publishes.
    public var message: PublishedMessage
    /// The headers that make up the message, to publish it again on each tick: the `Upstash-*`
    /// options and `Content-Type`, without the schedule's own headers and never the credentials.
    public var messageHeaders: HeaderFields

    /// Reads a request whose path and query are `target`; errors name the header or part at fault.
    public init(target: String, headers: HeaderFields, body: [UInt8]) throws(ProtocolError) {
        guard let cronText = headers["upstash-cron"]?.trimmingSpaces(), !cronText.isEmpty else {
            throw ProtocolError("header 'Upstash-Cron' is missing; a schedule needs a cron expression such as '*/5 * * * *'")
        }
        (cron, timeZone) = try Self.split(cronText)
        if let id = headers["upstash-schedule-id"] {
            guard Self.isValidId(id) else {
                throw ProtocolError("header 'Upstash-Schedule-Id': '\(id)' is not 1–128 of the characters A-Z a-z 0-9 _ . : -, other than '.' or '..'")
            }
            scheduleId = id
        }
        messageHeaders = HeaderFields(headers.fields.filter { field in
            let name = field.name.lowercased()
            return name == "content-type" || name.hasPrefix("upstash-") && !["upstash-cron", "upstash-schedule-id"].contains(name)
        })
        // A URL or a URL group's name, as a publish takes.
        message = try PublishedMessage(destination: Destination.fromTarget(target, prefix: Self.pathPrefix), headers: messageHeaders, body: body)
    }

    /// `CRON_TZ=Europe/Berlin 0 9 * * *` → (`0 9 * * *`, `Europe/Berlin`).
    private static func split(_ text: String) throws(ProtocolError) -> (cron: String, zone: String?) {
        guard text.uppercased().hasPrefix("CRON_TZ=") else { return (text, nil) }
        let rest = text.dropFirst("CRON_TZ=".count)
        guard let space = rest.firstIndex(of: " "), space != rest.startIndex else {
            throw ProtocolError("header 'Upstash-Cron': CRON_TZ= must be followed by a time zone and the cron fields, as in 'CRON_TZ=Europe/Berlin 0 9 * * *'")
        }
        return (rest[space...].trimmingSpaces(), String(rest[..<space]))
    }

    /// Schedule ids are path segments of later requests: a safe alphabet, bounded length.
    private static func isValidId(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && !QStashName.isDotSegment(id) && id.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || [UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-")].contains(byte)
        }
    }
}
