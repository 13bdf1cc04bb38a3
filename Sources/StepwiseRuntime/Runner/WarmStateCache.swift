/// The interpreter states a runner keeps for warm resumes, bounded both by how many runs it holds
/// and by the sum of their estimated sizes; the least recently stored run goes first.
///
/// Sizes are the caller's estimates, taken once when a state is stored, so the cache itself does
/// constant work per operation (amortized) however large the states are.
struct WarmStateCache<State: Sendable>: Sendable {
    /// A remembered state, the journal length it was built from, its estimated size, and the
    /// stamp of when it was last stored (which orders eviction).
    struct Entry: Sendable {
        let journalCount: Int, state: State, bytes: Int, stamp: UInt64
    }

    /// At most this many runs are kept (0 keeps none).
    let capacity: Int
    /// The sum of the kept states' estimated sizes never exceeds this.
    let byteBudget: Int
    /// The sum of the kept states' estimated sizes.
    private(set) var totalBytes = 0
    private var entries: [String: Entry] = [:]
    /// Run ids in the order they were stored, oldest first, from `head` on. An id stored again
    /// leaves a stale pair behind (its stamp no longer matches the entry's), skipped on eviction
    /// and dropped when the queue is compacted; this keeps storing O(1) instead of a linear search.
    private var order: [(stamp: UInt64, runId: String)] = []
    private var head = 0
    private var clock: UInt64 = 0

    /// A cache of at most `capacity` runs whose estimated sizes add up to at most `byteBudget` bytes.
    init(capacity: Int, byteBudget: Int) {
        self.capacity = max(0, capacity)
        self.byteBudget = max(0, byteBudget)
    }

    /// How many runs are kept.
    var count: Int { entries.count }

    /// The entry of `runId`, if kept. Looking does not make it more recent: storing does.
    func entry(for runId: String) -> Entry? { entries[runId] }

    /// Keeps `state` for `runId` as the most recent entry, evicting the least recently stored
    /// ones until both bounds hold. A state estimated larger than the whole budget is not kept
    /// (and any older state of the run is dropped); returns whether the state was kept.
    @discardableResult
    mutating func store(_ state: State, journalCount: Int, bytes: Int, for runId: String) -> Bool {
        remove(runId)
        guard capacity > 0, bytes <= byteBudget else { return false }
        clock += 1
        entries[runId] = Entry(journalCount: journalCount, state: state, bytes: max(0, bytes), stamp: clock)
        totalBytes += max(0, bytes)
        order.append((clock, runId))
        while entries.count > capacity || totalBytes > byteBudget, evictOldest() {}
        compactIfMostlyStale()
        return true
    }

    /// Removes and returns the entry of `runId`, if kept: the caller then holds the only reference
    /// to the state, so changing it copies nothing (a state still in the cache would be copied
    /// whole, with every step it remembers, at the first change).
    mutating func take(_ runId: String) -> Entry? {
        guard let entry = entries[runId] else { return nil }
        remove(runId)
        return entry
    }

    /// Forgets the state of `runId`, if kept.
    mutating func remove(_ runId: String) {
        guard let removed = entries.removeValue(forKey: runId) else { return }
        totalBytes -= removed.bytes
    }

    /// Drops the least recently stored entry; `false` when there is none.
    private mutating func evictOldest() -> Bool {
        while head < order.count {
            let (stamp, runId) = order[head]
            head += 1
            if let entry = entries[runId], entry.stamp == stamp {
                remove(runId)
                return true
            }
        }
        return false
    }

    /// Rebuilds the queue from the live entries once consumed or stale pairs outnumber them, so
    /// the queue's length stays proportional to the number of entries.
    private mutating func compactIfMostlyStale() {
        guard order.count > 2 * entries.count + 16 else { return }
        order = entries.map { ($0.value.stamp, $0.key) }.sorted { $0.stamp < $1.stamp }
        head = 0
    }
}
