/// What the engine should do after a workflow endpoint (or any destination) answered a delivery
/// (§4.7, §7.1).
public enum DeliveryVerdict: Sendable, Equatable {
    /// 2xx: the message is delivered.
    case delivered
    /// 489 with `Upstash-NonRetryable-Error: true`: fail now, no retries (DLQ, failure callback).
    case failWithoutRetry
    /// The answer asked for the next attempt after this long (`Retry-After`, capped at one day).
    case retryAfter(WireDuration)
    /// Any other failure: retry with the message's delay policy until retries run out.
    case retry
}
