extension Value {
    /// Whether this value, written as JSON, would take more than `limit` bytes (an estimate never
    /// below its compact JSON text: strings exact, doubles and times at their widest). Parts that
    /// are shared in memory (one list referenced twice) count as often as they would be written,
    /// so a value that doubles by sharing is as large as its text, not as small as its memory. The walk stops once the limit is passed: it costs at most about `limit`.
    public func isWritten(largerThan limit: Int) -> Bool {
        var remaining = limit
        return !fits(within: &remaining)
    }

    private func fits(within remaining: inout Int) -> Bool {
        switch self {
        case .null, .bool:
            remaining -= 5
        case .int(let number):
            remaining -= Self.digits(number.magnitude) + (number < 0 ? 1 : 0)
        case .uint(let number):
            remaining -= Self.digits(number)
        case .double:
            remaining -= 24
        case .timestamp, .duration, .type:
            remaining -= 40
        case .string(let text):
            remaining -= StringEscaping.quotedByteCount(text, style: .json)
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
                if case .string(let name) = key { remaining -= StringEscaping.quotedByteCount(name, style: .json) + 2 } else { remaining -= 26 }
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

    /// How many decimal digits `number` takes.
    private static func digits(_ number: UInt64) -> Int {
        var count = 1
        var rest = number
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}
