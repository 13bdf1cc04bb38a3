import StepwiseProtocol

/// Retrying plain QStash messages from their DLQ, timed by the engine's clock.
extension WorkflowEngine {
    /// Queues the messages of DLQ entries `ids` again as new messages, the retry request's
    /// `options` over their own, and removes the entries, all in one transaction; the new
    /// messages' ids (none for an entry that is not there). Throws `ProtocolError`, changing
    /// nothing, when the options do not suit one of the messages.
    public func retry(messageDeadLetters ids: [String], options: MessageOptions) async throws -> [String] {
        let now = clock()
        let planner = PublicationPlanner(now: now)
        var retries: [(id: String, message: QueuedMessage)] = []
        for id in ids {
            guard let letter = try await store.messageDeadLetter(id: id) else { continue }
            retries.append((id, try planner.retry(letter, options: options)))
        }
        let queued = try await store.retry(messageDeadLetters: retries, at: now)
        if !queued.isEmpty { queueChanged() }
        return queued
    }
}
