/// How long this node holds each lease it renews, as far as it knows: from the claim or commit
/// that took it, an extension, or the last renewal that reached the store, each counted from
/// before it was asked. A node cut off from its store cannot renew; the guard names the leases
/// whose time is up, so their deliveries are given up (requests cancelled, outcomes never
/// committed) before another node may take them over, a `takeoverGrace` later
/// (`WorkflowEngine.leaseEnd(from:holding:)`), and makes the same request again. A lease given
/// up stays so until a new claim takes it: nothing its cancelled delivery does brings it back.
struct LeaseGuard {
    /// A lease this node holds: a run message's row, or a queued message's.
    enum Lease: Hashable, Sendable {
        case message(Int64)
        case queued(String)
    }

    /// Until when each lease is held.
    private var horizons: [Lease: ContinuousClock.Instant] = [:]
    /// Leases whose time was up: what their deliveries did is not committed.
    private(set) var abandoned: Set<Lease> = []

    /// `lease` was taken anew until `end` (a claim, a sleep fired ahead, a commit that leased
    /// another row): it replaces what was known, as the store's row does, given up or not.
    mutating func take(_ lease: Lease, until end: ContinuousClock.Instant) {
        horizons[lease] = end
        abandoned.remove(lease)
    }

    /// `lease` was lengthened until `end` (a call's extension, a renewal reaching the store):
    /// never shortened, as the store never shortens it, and never brought back once given up.
    mutating func extend(_ lease: Lease, until end: ContinuousClock.Instant) {
        guard let held = horizons[lease] else { return }
        horizons[lease] = max(held, end)
    }

    /// A renewal of `leases` asked at `end` minus a lease reached the store (`extend` of each).
    mutating func renew(_ leases: [Lease], until end: ContinuousClock.Instant) {
        for lease in leases { extend(lease, until: end) }
    }

    /// The leases held until before `now` that `isHeld` still names (renewed by this node, or
    /// worked under by a delivery in flight) and that were not given up yet; they are given up
    /// now. Lapsed leases nothing holds any more are forgotten.
    mutating func abandonLapsed(at now: ContinuousClock.Instant, isHeld: (Lease) -> Bool) -> [Lease] {
        var lapsed: [Lease] = []
        for (lease, end) in horizons where end < now {
            if !isHeld(lease) {
                horizons[lease] = nil
                abandoned.remove(lease)
            } else if abandoned.insert(lease).inserted {
                lapsed.append(lease)
            }
        }
        return lapsed
    }
}
