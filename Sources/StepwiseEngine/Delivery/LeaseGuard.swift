/// How long this node holds each lease it renews, as far as it knows: from the claim or commit
/// that took it, an extension, or the last renewal that reached the store, each counted from
/// before it was asked. A node cut off from its store cannot renew; the guard names the leases
/// whose time is up, so their deliveries are given up (requests cancelled, outcomes never
/// committed) before another node may take them over, a `takeoverGrace` later
/// (`WorkflowEngine.leaseEnd(from:holding:)`), and makes the same request again.
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

    /// `lease` was taken, or set, to last until `end` (a claim, a commit that leased it, an
    /// extension): it replaces what was known, as the store's row does.
    mutating func take(_ lease: Lease, until end: ContinuousClock.Instant) {
        horizons[lease] = end
        abandoned.remove(lease)
    }

    /// `lease` was leased again in a commit, until `end` if it is new: a row this node holds
    /// already keeps its lease, pushed forward only when less than half is left (`KeptLease`), so
    /// its known end stays the safe one.
    mutating func takeIfNew(_ lease: Lease, until end: ContinuousClock.Instant) {
        guard horizons[lease] == nil || abandoned.contains(lease) else { return }
        take(lease, until: end)
    }

    /// A renewal of `leases` asked at `end` minus a lease reached the store; it only lengthens
    /// them, as the store's renewal does.
    mutating func renew(_ leases: [Lease], until end: ContinuousClock.Instant) {
        for lease in leases {
            guard let held = horizons[lease] else { continue }
            horizons[lease] = max(held, end)
        }
    }

    /// The leases held until before `now` that `isRenewed` still names and that were not given up
    /// yet; they are given up now. Lapsed leases this node no longer renews are forgotten.
    mutating func abandonLapsed(at now: ContinuousClock.Instant, isRenewed: (Lease) -> Bool) -> [Lease] {
        var lapsed: [Lease] = []
        for (lease, end) in horizons where end < now {
            if !isRenewed(lease) {
                horizons[lease] = nil
                abandoned.remove(lease)
            } else if abandoned.insert(lease).inserted {
                lapsed.append(lease)
            }
        }
        return lapsed
    }
}
