import StepwiseExpressions

/// Sleeps fired ahead of their end (`Configuration.sleepLookahead`): when the store's next due
/// time comes within the lookahead, a task fires the sleeps ending by then in one transaction and
/// reads their runs; the loop holds their deliveries (their leases renewed like any other) and
/// starts each once its sleep has ended and a read shows it still held.
extension WorkflowEngine {
    /// The most sleeps fired ahead in one transaction, which other commits wait behind.
    static let sleepsFiredAheadPerTransaction = 128
    /// The most deliveries held per delivery slot: a node that holds more fires no more ahead,
    /// and leaves the rest to whichever node claims them when they are due.
    static let heldDeliveriesPerSlot = 16

    /// Fires the sleeps ending within the lookahead in a task of its own, when the store's next
    /// due time says one may (`SleepsAhead.horizon`) and this node has room: a free slot now,
    /// and fewer deliveries held than its limit.
    func fireSleepsAheadWhenNear() {
        guard mayFireSleepsAhead, let horizon = sleepsAhead.horizon(at: clock(), lookahead: configuration.sleepLookahead) else { return }
        let token = sleepsAhead.firingBegins(through: horizon)
        let limit = min(Self.sleepsFiredAheadPerTransaction, heldRoom)
        sleepsAheadFiring = Task { await self.fireSleepsAhead(dueBy: horizon, limit: limit, token: token) }
    }

    /// Whether this node may fire sleeps ahead now: it is not stopping, has a free slot (a busy
    /// node leaves sleeps to the others), and holds fewer deliveries than its limit.
    var mayFireSleepsAhead: Bool { !stopping && freeSlots > 0 && heldRoom > 0 }

    /// How many more deliveries this node may hold.
    private var heldRoom: Int { configuration.maximumConcurrentDeliveries * Self.heldDeliveriesPerSlot - sleepsAhead.count }

    /// Checks, in one read, that the held deliveries whose sleep has ended are still this node's
    /// (a cancel on another node, or through a parent run, deletes them), and starts ready ones
    /// in the free slots.
    func startEndedSleeps() {
        let ended = sleepsAhead.takeEnded(at: clock(), limit: Self.heldCheckedPerRead)
        if !ended.isEmpty { checkStillHeld(ended) }
        startReadySleeps()
    }

    /// Starts held deliveries that passed their check, as many as there are free slots.
    private func startReadySleeps() {
        for sleep in sleepsAhead.takeReady(limit: freeSlots) {
            start(sleep.delivery, leasedAt: nil) { [self] in await fired(sleep) }
        }
    }

    /// The most held deliveries one read checks.
    static let heldCheckedPerRead = 500

    /// Reads which of `ended` are still held, in a task of its own (the loop goes on), and makes
    /// those ready. If the read fails, all go ahead: a canceled run's step is made, and its
    /// commit then fails, as for a cancel that lands while a step runs.
    private func checkStillHeld(_ ended: [SleepsAhead.Held]) {
        sleepChecks += 1
        let key = sleepChecks
        let messages = ended.map(\.delivery.message)
        sleepsAheadChecking[key] = Task {
            do {
                checked(ended, held: try await store.messagesHeld(messages, owner: owner), key: key)
            } catch {
                logger.error("held deliveries could not be checked (\(error)); they go ahead")
                checked(ended, held: nil, key: key)
            }
        }
    }

    /// The read of `checkStillHeld` found `held` (`nil`: it failed).
    private func checked(_ ended: [SleepsAhead.Held], held: Set<Int64>?, key: Int) {
        sleepsAheadChecking[key] = nil
        var ready: [SleepsAhead.Held] = []
        for sleep in ended {
            guard held?.contains(sleep.delivery.message.id) ?? true else {
                stopRenewing(sleep.delivery.message.id)
                metrics.delivery(kind: "timer", outcome: "dropped", started: clock(), finished: clock(), due: sleep.timer.dueAt)
                continue
            }
            ready.append(sleep)
        }
        sleepsAhead.makeReady(ready, checked: ended.count)
        // Started here rather than by the loop's next turn, which may be waiting on the store.
        if !stopping { startReadySleeps() }
        wake.signal()
    }

    /// Drops this node's held deliveries of `runIds`, which were canceled here (their messages
    /// are gone with the cancel).
    func forgetHeldDeliveries(of runIds: [String]) {
        for sleep in sleepsAhead.remove(runIds: Set(runIds)) { stopRenewing(sleep.delivery.message.id) }
    }

    /// A held delivery starts: the sleep it follows counts as fired now.
    private func fired(_ sleep: SleepsAhead.Held) async {
        stopRenewing(sleep.delivery.message.id)
        metrics.delivery(kind: "timer", outcome: "fired", started: clock(), finished: clock(), due: sleep.timer.dueAt)
        await publishRecorded(runId: sleep.timer.runId, step: sleep.timer.stepName)
    }

    /// Fires up to `limit` sleeps ending by `horizon` (the loop comes back for the rest), holds
    /// their deliveries at once, then reads their runs from where the runner's state ends, so
    /// that at each sleep's end only the delivery is left. If the firing fails, its sleeps fire
    /// when they end.
    private func fireSleepsAhead(dueBy horizon: TimestampValue, limit: Int, token: Int) async {
        var lookedThrough: TimestampValue? = horizon
        defer {
            sleepsAhead.firingEnded(token, lookedThrough: lookedThrough)
            sleepsAheadFiring = nil
            wake.signal()
        }
        let fired: [SleepFiredAhead]
        let asked = ContinuousClock.now
        do {
            fired = try await store.fireSleepsAhead(after: clock(), dueBy: horizon, limit: limit, owner: owner, leaseUntil: leaseEnd(from: horizon))
        } catch {
            logger.error("sleeps ending soon could not be fired ahead (\(error)); those not fired fire when they end")
            return
        }
        // A full batch may have left sleeps ending at its last one's time: look from just before it.
        if fired.count == limit { lookedThrough = fired.last.map { $0.timer.dueAt.movedBack(by: .milliseconds(1)) } }
        let held = fired.compactMap { sleep in
            sleep.delivery.map { SleepsAhead.Held(timer: sleep.timer, delivery: LeasedDelivery(message: $0)) }
        }
        for sleep in held {
            processing.messages[sleep.delivery.message.id, default: 0] += 1
            leaseGuard.take(.message(sleep.delivery.message.id), until: asked + configuration.lease)
        }
        guard !stopping else { return await release(held) }
        sleepsAhead.hold(held)
        for sleep in held where !stopping {
            let delivery = sleep.delivery.message
            // A failed read is made again when the delivery starts.
            guard let read = try? await store.runProgress(runId: delivery.runId, from: runner.warmJournalCount(runId: delivery.runId) ?? 0)
            else { continue }
            sleepsAhead.attach(read, toDeliveryOf: delivery.id)
        }
    }

    /// Gives held deliveries back to the store, due at their sleep's end, for any node to claim.
    func release(_ held: [SleepsAhead.Held]) async {
        for sleep in held {
            let message = sleep.delivery.message
            stopRenewing(message.id)
            do {
                try await store.reschedule(message, owner: owner, attempt: message.attempt, at: message.dueAt)
            } catch {
                logger.error("the delivery of run \(message.runId) could not be given back (\(error)); it is claimed when its lease ends")
            }
        }
    }
}
