import StepwiseExpressions

/// Equality for checking results: same types all the way down (unlike CEL's `==`, where `1 == 1u`),
/// `NaN` equal to itself, maps compared regardless of entry order.
enum StrictEquality {
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case let (.double(x), .double(y)): return (x.isNaN && y.isNaN) || x == y
        case let (.list(x), .list(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.map(x), .map(y)):
            guard x.count == y.count else { return false }
            return x.entries.allSatisfy { key, value in
                guard let index = y.keys.firstIndex(where: { strictKey($0, key) }) else { return false }
                return equal(value, y.values[index])
            }
        case let (.optional(x), .optional(y)):
            switch (x, y) {
            case (nil, nil): return true
            case let (x?, y?): return equal(x, y)
            default: return false
            }
        default:
            return a.type == b.type && a == b
        }
    }

    private static func strictKey(_ a: MapKey, _ b: MapKey) -> Bool {
        a.value.type == b.value.type && a == b
    }
}
