import StepwiseExpressions

/// Sleeps fired ahead of their end (`Configuration.sleepLookahead`): when the store's next due
/// message comes within the lookahead, the loop fires the sleeps ending by then in one
/// transaction and reads their runs, and holds the deliveries until each sleep ends.
extension WorkflowEngine {
    /// The most sleeps fired ahead in one transaction, which other commits wait behind.
    static let sleepsFiredAheadPerTransaction = 256

    /// Fires the sleeps ending within the lookahead in a task of its own, when the store's next
    /// due time says one may (`SleepsAhead.horizon`).
    func fireSleepsAheadWhenNear() {
        guard !stopping, let horizon = sleepsAhead.horizon(at: clock(), lookahead: configuration.sleepLookahead) else { return }
        let token = sleepsAhead.firingBegins()
        sleepsAheadFiring = Task { await self.fireSleepsAhead(dueBy: horizon, token: token) }
    }

    /// Starts the held deliveries whose sleep has ended, as many as there are free slots.
    func startEndedSleeps() {
        for sleep in sleepsAhead.takeEnded(at: clock(), limit: freeSlots) {
            start(sleep.delivery) { [self] in
                metrics.delivery(kind: "timer", outcome: "fired", started: clock(), finished: clock(), due: sleep.timer.dueAt)
                await publishRecorded(runId: sleep.timer.runId, step: sleep.timer.stepName)
            }
        }
    }

    /// Fires the sleeps ending by `horizon` (a bounded number per transaction; the loop comes
    /// back for the rest) and reads their runs from where the runner's state ends, so that at
    /// each sleep's end only the delivery is left. If it fails, those timers fire when due.
    private func fireSleepsAhead(dueBy horizon: TimestampValue, token: Int) async {
        var lookedThrough: TimestampValue? = horizon
        defer {
            sleepsAhead.firingEnded(token, lookedThrough: lookedThrough)
            sleepsAheadFiring = nil
            wake.signal()
        }
        let limit = Self.sleepsFiredAheadPerTransaction
        let fired: [SleepFiredAhead]
        do {
            fired = try await store.fireSleepsAhead(dueBy: horizon, limit: limit, owner: owner, leaseUntil: horizon.movedForward(by: configuration.lease))
        } catch {
            logger.error("sleeps ending soon could not be fired ahead (\(error)); each fires when it ends")
            return
        }
        // A full batch may have left sleeps ending at its last one's time: look from just before it.
        if fired.count == limit { lookedThrough = fired.last.map { $0.timer.dueAt.movedBack(by: .milliseconds(1)) } }
        var held: [SleepsAhead.Held] = []
        for sleep in fired {
            let warm = runner.warmJournalCount(runId: sleep.delivery.runId) ?? 0
            // A failed read is made again when the delivery starts.
            let read = try? await store.runProgress(runId: sleep.delivery.runId, from: warm)
            held.append(SleepsAhead.Held(timer: sleep.timer, delivery: LeasedDelivery(message: sleep.delivery, read: read)))
        }
        guard !stopping else { return await release(held) }
        sleepsAhead.hold(held)
    }

    /// Gives held deliveries back to the store, due at their sleep's end, for any node to claim.
    func release(_ held: [SleepsAhead.Held]) async {
        for sleep in held {
            let message = sleep.delivery.message
            do {
                try await store.reschedule(message, owner: owner, attempt: message.attempt, at: message.dueAt)
            } catch {
                logger.error("the delivery of run \(message.runId) could not be released (\(error)); its lease expires in \(configuration.lease)")
            }
        }
    }
}
