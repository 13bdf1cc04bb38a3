/// How long each delivery in flight on this node holds its lease, as far as this node knows: from
/// its claim, a commit that leased it, or the last renewal or extension that reached the store.
/// A node cut off from its store cannot renew; once a lease is about to lapse, another node may
/// claim the delivery and make its request again, so the guard names the deliveries to give up
/// first (their requests cancelled, their outcomes never committed), keeping a slow step from
/// being made twice at once and flow-control limits from being exceeded across nodes.
struct LeaseGuard {
    /// The lease end of each delivery in flight, by its key in the engine's `inFlight`.
    private var horizons: [String: ContinuousClock.Instant] = [:]
    /// Deliveries given up: their outcomes are not committed.
    private(set) var abandoned: Set<String> = []

    /// Delivery `key` holds a lease until `end` (a claim or a commit that leased it; an
    /// extension, which may only lengthen it).
    mutating func hold(_ key: String, until end: ContinuousClock.Instant) {
        horizons[key] = max(horizons[key] ?? end, end)
    }

    /// A renewal asked before `end` minus a lease succeeded for every delivery in flight.
    mutating func renewAll(until end: ContinuousClock.Instant) {
        for key in horizons.keys { hold(key, until: end) }
    }

    /// The deliveries whose lease ends before `limit` and that were not given up yet; they are
    /// given up now.
    mutating func abandonLapsing(before limit: ContinuousClock.Instant) -> [String] {
        let lapsing = horizons.filter { $0.value < limit && !abandoned.contains($0.key) }.map(\.key)
        abandoned.formUnion(lapsing)
        return lapsing
    }

    /// Delivery `key` ended: nothing is kept of it.
    mutating func release(_ key: String) {
        horizons[key] = nil
        abandoned.remove(key)
    }
}
