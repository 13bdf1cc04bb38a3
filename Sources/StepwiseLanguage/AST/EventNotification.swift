import StepwiseExpressions

/// `notify: {event, data}`.
public struct EventNotification: Sendable {
    public var event: ValueTemplate
    public var data: ValueTemplate?
}
