import StepwiseExpressions

/// Same value and same type, all the way down: CEL's `==` says `1 == 1u == 1.0`, tests need more.
/// Doubles compare by bits, so `NaN` equals itself and `-0.0` differs from `0.0`.
func identical(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case let (.list(x), .list(y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case let (.map(x), .map(y)):
        return x.keys == y.keys && zip(x.values, y.values).allSatisfy { identical($0, $1) }
    case let (.optional(x?), .optional(y?)): return identical(x, y)
    case let (.double(x), .double(y)): return x.bitPattern == y.bitPattern
    default: return a.type == b.type && a == b
    }
}
