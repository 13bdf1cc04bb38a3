import StepwiseExpressions
import StepwiseRuntime

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

/// A message waiting to be processed at a due time: the next delivery of a run, the timer of a
