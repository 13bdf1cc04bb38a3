import StepwiseExpressions
import StepwiseProtocol

/// How a notify resolves an SDK run's wait: the publish of its `Wait` result with the event's
/// data, decided here (pure) whoever applies it (`POST /v2/notify`, or a YAML `notify` step,
/// which the store applies in the delivery's transaction so that the step's list of woken runs
/// names exactly the waits it resolved).
public enum EndpointWake {
    /// The publication that completes `wait` with `data`, for a run whose run-level options are
    /// `defaults`, at `now`.
    public static func publication(for wait: EndpointWait, data: Value, defaults: RunDefaults?, now: TimestampValue) throws(ProtocolError)
        -> Publication
    {
        let message = try wait.resolution(eventBody: eventBody(data))
        return try PublicationPlanner(now: now, defaults: defaults.map { [wait.runId: $0] } ?? [:]).plan(message)
    }

    /// The bytes an SDK reads as event data: a text event as its text, anything else as JSON.
    public static func eventBody(_ data: Value) -> [UInt8] {
        if case .string(let text) = data { return Array(text.utf8) }
        return Array(data.jsonText().utf8)
    }
}
