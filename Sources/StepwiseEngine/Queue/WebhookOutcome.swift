/// What became of a request to a webhook URL (`WorkflowEngine.receiveWebhook`).
public enum WebhookOutcome: Sendable, Equatable {
    /// It completed the run's waiting `WaitForWebhook` step.
    case completed
    /// The run is not waiting yet: it is kept for the wait.
    case kept
    /// There is no running SDK run of that id.
    case noRun
    /// The run already keeps `maximumKeptCalls` calls that came before their waits.
    case refused

    /// The most webhook calls kept for one run before its waits: callers need no token, so what
    /// one run keeps is bounded.
    public static let maximumKeptCalls = 20
}
