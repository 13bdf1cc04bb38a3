import StepwiseExpressions

/// `wait_for_event: {event, timeout}`.
public struct EventWait: Sendable {
    public var event: ValueTemplate
    /// `nil` means the default of 7 days (the validator warns, unless `timeout` is written but invalid).
    public var timeout: Located<DurationValue>?
    /// Whether a `timeout` key is present (it may be invalid, and then `timeout` is `nil`).
    public var hasTimeoutKey = false
}
