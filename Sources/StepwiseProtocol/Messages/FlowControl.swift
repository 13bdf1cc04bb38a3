/// A flow-control setting of a message: `Upstash-Flow-Control-Key` and the value
/// `parallelism=<n>, rate=<n>, period=<dur>` (any subset; workflow-js `src/qstash/headers.ts`
/// writes `", "` between parts, as in `parallelism=2, rate=5, period=1m`).
public struct FlowControl: Sendable, Hashable {
    /// The key deliveries are counted under.
    public var key: String
    /// At most this many deliveries of the key in flight.
    public var parallelism: Int?
    /// At most this many delivery starts per `period`.
    public var rate: Int?
    /// The rate window; QStash's default is one second.
    public var period: WireDuration?

    /// A setting with the given parts.
    public init(key: String, parallelism: Int? = nil, rate: Int? = nil, period: WireDuration? = nil) {
        self.key = key
        self.parallelism = parallelism
        self.rate = rate
        self.period = period
    }

    /// The longest rate period: a week, as QStash's.
    public static let maximumPeriodMilliseconds: Int64 = 7 * 86_400_000

    /// Reads the value header for `key`; an empty or absent value leaves every limit unset.
    public init(key: String, value: String?) throws(ProtocolError) {
        self.init(key: key)
        for part in (value ?? "").split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            guard pair.count == 2 else {
                throw ProtocolError("'\(part.trimmingSpaces())' is not name=value; expected parallelism=<n>, rate=<n>, period=<duration>")
            }
            switch pair[0].lowercased() {
            case "parallelism": parallelism = try Self.positive(pair[1], name: "parallelism")
            case "rate": rate = try Self.positive(pair[1], name: "rate")
            case "period":
                let parsed = try WireDuration(parsing: pair[1], bareSeconds: true)
                guard parsed.milliseconds <= Self.maximumPeriodMilliseconds else {
                    throw ProtocolError("flow-control period '\(pair[1])' is longer than a week, QStash's longest")
                }
                period = parsed
            default: throw ProtocolError("unknown flow-control setting '\(pair[0])'; expected parallelism, rate or period")
            }
        }
    }

    /// The value header (`parallelism=2, rate=5, period=1m`), parts in the SDK's order.
    public var value: String {
        var parts: [String] = []
        if let parallelism { parts.append("parallelism=\(parallelism)") }
        if let rate { parts.append("rate=\(rate)") }
        if let period { parts.append("period=\(period)") }
        return parts.joined(separator: ", ")
    }

    private static func positive(_ text: String, name: String) throws(ProtocolError) -> Int {
        guard let number = Int(text), number > 0 else { throw ProtocolError("\(name) must be a positive integer, not '\(text)'") }
        return number
    }
}
