/// A set of scalars from a bracket expression (`[a-z\d]`) or a class escape (`\w`, `\p{L}`).
///
/// The set is a union of items, each of which may be complemented on its own (`[\D\s]`), and the
/// whole union may be complemented (`[^…]`). Under the `i` flag a scalar is tested through its case
/// orbit, and complements apply after folding, as in RE2.
struct RegexCharacterClass: Sendable, Equatable {
    /// One member of the union: explicit ranges plus general categories, possibly complemented.
    struct Item: Sendable, Equatable {
        var ranges: [ClosedRange<UInt32>] = []
        var categories = RegexGeneralCategories()
        var isNegated = false

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            rangesContain(scalar.value) || (!categories.isEmpty && categories.contains(scalar))
        }

        /// Binary search; `ranges` are sorted and disjoint once the class is built.
        private func rangesContain(_ value: UInt32) -> Bool {
            var low = 0
            var high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                let range = ranges[middle]
                if value < range.lowerBound {
                    high = middle
                } else if value > range.upperBound {
                    low = middle + 1
                } else {
                    return true
                }
            }
            return false
        }
    }

    /// Index 0 is the positive item that plain ranges and positive sets are merged into.
    private(set) var items: [Item] = [Item()]
    /// `[^…]`, `\D`, `\P{…}`: the union is complemented.
    var isNegated: Bool
    /// Scalars must be tested through their case orbit: built under the `i` flag and too large
    /// to fold in advance.
    private(set) var isCaseInsensitive: Bool

    /// Classes under the `i` flag with at most this many scalars are folded when built, so
    /// matching them costs no case mapping; larger ones (`\p{L}`) fold while matching.
    private static let maximumScalarsFoldedInAdvance = 256

    init(isNegated: Bool = false, isCaseInsensitive: Bool) {
        self.isNegated = isNegated
        self.isCaseInsensitive = isCaseInsensitive
    }

    /// Adds the inclusive range `lower...upper` of code points.
    mutating func add(_ lower: UInt32, through upper: UInt32) {
        items[0].ranges.append(lower...upper)
    }

    /// Adds a named set (`\d`, `[:alpha:]`, `\p{Greek}`), complemented when `negated`.
    mutating func add(ranges: [ClosedRange<UInt32>], categories: RegexGeneralCategories, negated: Bool) {
        if negated {
            items.append(Item(ranges: Self.normalized(ranges), categories: categories, isNegated: true))
        } else {
            items[0].ranges += ranges
            items[0].categories.formUnion(categories)
        }
    }

    /// Sorts and merges the ranges so membership tests can binary search, and folds small
    /// case-insensitive classes in advance; call once when built.
    mutating func finish() {
        items[0].ranges = Self.normalized(items[0].ranges)
        if isCaseInsensitive, let folded = foldedItems() {
            items = folded
            isCaseInsensitive = false
        }
    }

    /// Each item with its scalars' case orbits added, or nil when that would be expensive.
    /// Folding each item before its own complement keeps RE2's meaning of `(?i)[^k]` and `(?i)\W`.
    private func foldedItems() -> [Item]? {
        var scalarCount = 0
        for item in items {
            guard item.categories.isEmpty else { return nil }
            scalarCount += item.ranges.reduce(0) { $0 + $1.count }
        }
        guard scalarCount <= Self.maximumScalarsFoldedInAdvance else { return nil }
        return items.map { item in
            var ranges = item.ranges
            for value in item.ranges.joined() {
                guard let scalar = Unicode.Scalar(value) else { continue }
                ranges += RegexCaseFolding.orbit(of: scalar).map { $0.value...$0.value }
            }
            return Item(ranges: Self.normalized(ranges), categories: item.categories, isNegated: item.isNegated)
        }
    }

    /// Whether `scalar` is in the class, ignoring case folding.
    func matches(_ scalar: Unicode.Scalar) -> Bool {
        isNegated != items.contains { $0.isNegated != $0.contains(scalar) }
    }

    /// Whether the class matches a scalar whose case orbit is `orbit` (used under the `i` flag).
    func matches(anyOf orbit: [Unicode.Scalar]) -> Bool {
        isNegated != items.contains { item in
            item.isNegated != orbit.contains { item.contains($0) }
        }
    }

    private static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
