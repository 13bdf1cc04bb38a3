import StepwiseRuntime

/// The echo redactors of queued messages (`QueuedAttemptResolver.echoedCredentials`), kept by
/// the credentials they redact: making one takes about half a millisecond (every form of each
/// value, BENCHMARKS.md), which every attempt of a message forwarding `Authorization` would pay
/// again, while a run's messages and a publisher's repeat the same few values. At most
/// `capacity` kept; when full, the cache starts over.
struct EchoRedactorCache: Sendable {
    private var redactors: [[String]: SecretRedactor] = [:]
    /// The most redactors kept.
    let capacity: Int

    /// A cache keeping at most `capacity` redactors.
    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The redactor of `message`'s forwarded credentials, `.none` when it forwards none.
    mutating func redactor(for message: QueuedMessage) -> SecretRedactor {
        let credentials = QueuedAttemptResolver.echoedCredentials(of: message)
        guard !credentials.isEmpty else { return .none }
        if let kept = redactors[credentials] { return kept }
        if redactors.count >= capacity { redactors.removeAll(keepingCapacity: true) }
        let made = SecretRedactor(secrets: credentials)
        redactors[credentials] = made
        return made
    }
}
