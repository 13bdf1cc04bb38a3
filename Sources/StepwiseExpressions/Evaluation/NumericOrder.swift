/// The result of comparing two ordered values.
enum Ordering: Equatable {
    case less, equal, greater

    init<T: Comparable>(_ a: T, _ b: T) {
        self = a < b ? .less : (a == b ? .equal : .greater)
    }
}

/// Compares numbers by value across `int`, `uint` and `double`, as CEL's heterogeneous
/// comparisons require: integers compare exactly with each other, and as doubles with doubles.
enum NumericOrder {
    /// The order of two numbers; `nil` when either is not a number or a `NaN` is involved.
    static func compare(_ lhs: Value, _ rhs: Value) -> Ordering? {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): Ordering(a, b)
        case let (.uint(a), .uint(b)): Ordering(a, b)
        case let (.double(a), .double(b)): compare(a, b)
        case let (.int(a), .uint(b)): a < 0 ? .less : Ordering(UInt64(a), b)
        case let (.uint(a), .int(b)): b < 0 ? .greater : Ordering(a, UInt64(b))
        // Integers meet doubles as doubles, as the CEL specification does: 2^63 - 1 equals 2^63.0.
        case let (.int(a), .double(b)): compare(Double(a), b)
        case let (.uint(a), .double(b)): compare(Double(a), b)
        case let (.double(a), .int(b)): compare(a, Double(b))
        case let (.double(a), .uint(b)): compare(a, Double(b))
        default: nil
        }
    }

    private static func compare(_ a: Double, _ b: Double) -> Ordering? {
        a.isNaN || b.isNaN ? nil : Ordering(a, b)
    }
}

