import StepwiseExpressions

/// Retrying plain QStash messages kept in their DLQ.
extension RunTransitions {
    /// Queues each message (from `PublicationPlanner.retry`) in place of its DLQ entry; an entry
    /// already gone (another retry or a delete came first) queues nothing. The ids of the
    /// messages queued, in order.
    public func retry(messageDeadLetters retries: [(id: String, message: QueuedMessage)], at now: TimestampValue) throws -> [String] {
        try retries.compactMap { id, message in
            guard try transaction.deleteMessageDeadLetter(id: id) else { return nil }
            try enqueue(message, at: now)
            return message.id
        }
    }
}
