import StepwiseExpressions
import StepwiseRuntime

/// Durable state of the engine: definitions, runs, journals, pending messages and attempts.
///
/// Designed for several engine processes sharing one database (PostgreSQL) as well as the
/// embedded SQLite default: due messages are claimed atomically with a lease, every state change
/// is one transaction, and no process-local state is needed to continue another node's work.
public protocol Store: Sendable {
    /// Keeps a definition (idempotent by hash).
    func saveDefinition(_ definition: StoredDefinition) async throws
    func definitions() async throws -> [StoredDefinition]

    /// Creates a run with its initial journal entry and first message, or returns the existing run
    /// with the same id (idempotent start). `created` tells which.
    func createRun(_ run: RunRecord) async throws -> (run: RunRecord, created: Bool)

    /// Leases up to `limit` messages due at `now` to `owner` until `leaseUntil`, oldest first.
    /// A message whose lease expired (its owner died) can be claimed again.
    func claimDueMessages(now: TimestampValue, limit: Int, owner: String, leaseUntil: TimestampValue) async throws -> [PendingMessage]

    /// The earliest due time of an unleased message, or of a lease expiry, for the scheduler to sleep until.
    func nextWakeTime() async throws -> TimestampValue?

    /// Finishes a claimed message: deletes it and applies `resolution` atomically. Returns false
    /// when the lease was lost (nothing changes) or the run is no longer running (the stale
    /// message is dropped, the run is left as it is).
    func complete(_ message: PendingMessage, owner: String, with resolution: DeliveryResolution) async throws -> Bool

    /// Gives a claimed message back, due again at `dueAt` (after a delivery that could not be
    /// finished, so the run does not wait for the lease to expire).
    func reschedule(_ message: PendingMessage, owner: String, at dueAt: TimestampValue) async throws

    /// Releases every lease held by `owner` (at startup, for a single node that crashed).
    func releaseLeases(owner: String) async throws

    func run(id: String) async throws -> RunRecord?
    func runs(_ filter: RunFilter) async throws -> [RunRecord]
    func journal(runId: String) async throws -> [JournalEntry]
    func attempts(runId: String) async throws -> [AttemptRecord]

    /// Cancels a running run and drops its pending messages; false when it was not running.
    func cancel(runId: String, at time: TimestampValue) async throws -> Bool
}
