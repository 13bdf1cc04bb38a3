import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The flow-control settings of a run or of a queued message: at most `concurrencyLimit`
/// deliveries in flight per `concurrencyKey`, at most `rateLimit` started per `ratePeriod` per
/// `rateKey`. Keys are one namespace: a YAML run's `concurrency.key` and a QStash message's
/// `Upstash-Flow-Control-Key` with the same text count against the same limit.
public struct FlowControl: Sendable, Equatable, Codable {
    public var concurrencyKey: String?
    public var concurrencyLimit: Int?
    public var rateKey: String?
    public var rateLimit: Int?
    /// Milliseconds.
    public var ratePeriod: Int64?

    /// QStash's rate window when a message names none.
    public static let defaultRatePeriod: Int64 = 1_000

    public init(concurrencyKey: String? = nil, concurrencyLimit: Int? = nil, rateKey: String? = nil, rateLimit: Int? = nil, ratePeriod: Int64? = nil) {
        self.concurrencyKey = concurrencyKey
        self.concurrencyLimit = concurrencyLimit
        self.rateKey = rateKey
        self.rateLimit = rateLimit
        self.ratePeriod = ratePeriod
    }

    /// A message's `Upstash-Flow-Control-Key` and `-Value`: one key for both limits (§10.1).
    public init(_ message: StepwiseProtocol.FlowControl) {
        self.init(
            concurrencyKey: message.key, concurrencyLimit: message.parallelism, rateKey: message.key, rateLimit: message.rate,
            ratePeriod: message.rate == nil ? nil : message.period?.milliseconds ?? Self.defaultRatePeriod)
    }

    /// The key a queued message is counted under.
    public var key: String? { concurrencyKey ?? rateKey }

    /// The keys a delivery is counted under: the concurrency key, then a different rate key.
    var keys: [String] {
        guard let rateKey, rateKey != concurrencyKey else { return concurrencyKey.map { [$0] } ?? [] }
        return (concurrencyKey.map { [$0] } ?? []) + [rateKey]
    }
}
