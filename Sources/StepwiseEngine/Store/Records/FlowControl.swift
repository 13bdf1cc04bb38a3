import StepwiseExpressions
import StepwiseRuntime

/// The flow-control settings of a run: at most `concurrencyLimit` deliveries in flight per
/// `concurrencyKey`, at most `rateLimit` started per `ratePeriod` per `rateKey`.
public struct FlowControl: Sendable, Equatable {
    public var concurrencyKey: String?
    public var concurrencyLimit: Int?
    public var rateKey: String?
    public var rateLimit: Int?
    /// Milliseconds.
    public var ratePeriod: Int64?

    public init(concurrencyKey: String? = nil, concurrencyLimit: Int? = nil, rateKey: String? = nil, rateLimit: Int? = nil, ratePeriod: Int64? = nil) {
        self.concurrencyKey = concurrencyKey
        self.concurrencyLimit = concurrencyLimit
        self.rateKey = rateKey
        self.rateLimit = rateLimit
        self.ratePeriod = ratePeriod
    }
}
