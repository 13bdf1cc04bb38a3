import StepwiseExpressions
import StepwiseProtocol

/// The delivery bodies of SDK runs' logs, kept encoded between deliveries. A log grows, so the
/// body of a run's next delivery is the cached bytes plus the entries appended since, read from
/// the store by position: the engine's side of a delivery costs what changed, not the whole log
/// (the protocol still sends the whole prefix). Only an entry's message id ever changes (a
/// delivery queued again under a new id relabels its entry, and the node that did it forgets the
/// run); another node may keep the old id in its bytes, which the SDKs never read from a body
/// (they find entries by id only in a lazy fetch, which reads the store). Bounded by bytes, least
/// recently used first out; a node that lacks a run's bytes reads its log whole, so the cache is
/// never needed for correctness. A run is known by its id and start time: a client may start a
/// new run under the id of one that ended, whose bytes any node may still keep.
struct EncodedLogCache: Sendable {
    private var logs: [String: (encoded: EncodedRawSteps, initialPayload: [UInt8], createdAt: TimestampValue, lastUse: UInt64)] = [:]
    private var uses: UInt64 = 0
    private var totalBytes = 0
    /// The most bytes kept, all runs together.
    let byteBudget: Int

    /// A cache keeping at most `byteBudget` bytes.
    init(byteBudget: Int = 64 << 20) {
        self.byteBudget = byteBudget
    }

    /// How many entries of `run` are known.
    func count(of run: RunRecord) -> Int {
        guard let kept = logs[run.id], kept.createdAt == run.createdAt else { return 0 }
        return kept.encoded.count
    }

    /// Appends entries read from the store, which must start at `count(of: run)`, and answers
    /// the body of the first `through + 1` entries (all when `nil`) and the run's initial payload
    /// (entry 0, which a failure callback carries).
    mutating func body(of run: RunRecord, appending entries: [RawStep], through position: Int?) -> (body: [UInt8], initialPayload: [UInt8]) {
        uses += 1
        let removed = logs.removeValue(forKey: run.id)
        totalBytes -= removed?.encoded.bytes.count ?? 0
        let kept = removed?.createdAt == run.createdAt ? removed : nil
        var encoded = kept?.encoded ?? EncodedRawSteps()
        let initialPayload = kept?.initialPayload ?? entries.first?.body ?? []
        for entry in entries { encoded.append(entry) }
        let body = encoded.body(count: position.map { $0 + 1 })
        guard encoded.bytes.count <= byteBudget / 4 else { return (body, initialPayload) }
        totalBytes += encoded.bytes.count
        logs[run.id] = (encoded, initialPayload, run.createdAt, uses)
        evictOverBudget()
        return (body, initialPayload)
    }

    /// Forgets a run whose log will not be delivered again.
    mutating func forget(_ runId: String) {
        guard let removed = logs.removeValue(forKey: runId) else { return }
        totalBytes -= removed.encoded.bytes.count
    }

    private mutating func evictOverBudget() {
        while totalBytes > byteBudget, let oldest = logs.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            forget(oldest)
        }
    }
}
