extension Value {
    /// Whether this value, written as JSON, would take more than `limit` bytes (an estimate close to
    /// its JSON text). Parts that are shared in memory (one list referenced twice) count as often as
    /// they would be written, so a value that doubles by sharing is as large as its text, not as
    /// small as its memory. The walk stops once the limit is passed: it costs at most about `limit`.
    public func isWritten(largerThan limit: Int) -> Bool {
        var remaining = limit
        return !fits(within: &remaining)
    }

    private func fits(within remaining: inout Int) -> Bool {
        switch self {
        case .null, .bool, .int, .uint, .double, .timestamp, .duration, .type:
            remaining -= 8
        case .string(let text):
            remaining -= text.utf8.count + 2
        case .bytes(let bytes):
            remaining -= (bytes.count + 2) / 3 * 4 + 2
        case .list(let items):
            remaining -= 2
            for item in items {
                remaining -= 1
                guard remaining >= 0, item.fits(within: &remaining) else { return false }
            }
        case .map(let map):
            remaining -= 2
            for (key, value) in map.entries {
                if case .string(let name) = key { remaining -= name.utf8.count + 4 } else { remaining -= 12 }
                guard remaining >= 0, value.fits(within: &remaining) else { return false }
            }
        case .optional(let wrapped):
            guard let wrapped else {
                remaining -= 4
                break
            }
            return wrapped.fits(within: &remaining)
        }
        return remaining >= 0
    }
}
