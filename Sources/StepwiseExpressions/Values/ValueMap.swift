/// An insertion-ordered map from `MapKey` to `Value`: JSON objects keep their member order.
///
/// Small maps (most JSON objects) find keys by a linear search; an index by key is built only
/// once a map outgrows `indexThreshold` entries, because for a handful of keys the index would
/// take more memory than the entries themselves and a scan is as fast as hashing.
public struct ValueMap: Sendable {
    public private(set) var keys: [MapKey] = []
    public private(set) var values: [Value] = []
    /// Positions by key; `nil` while the map has at most `indexThreshold` entries.
    private var positions: [MapKey: Int]?

    /// Maps up to this many entries have no index.
    static let indexThreshold = 8

    /// An empty map.
    public init() {}

    /// A map of string keys in the given order; a repeated key keeps its last value.
    public init(_ entries: [(String, Value)]) {
        for (key, value) in entries { self[.string(key)] = value }
    }

    /// The number of entries.
    public var count: Int { keys.count }

    /// Whether the map has no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`; assigning `nil` removes the entry, assigning a value replaces it in place.
    public subscript(key: MapKey) -> Value? {
        get { position(of: key).map { values[$0] } }
        set {
            guard let newValue else {
                remove(key)
                return
            }
            if let position = position(of: key) {
                values[position] = newValue
            } else {
                append(newValue, forKey: key)
            }
        }
    }

    /// Adds an entry; returns `false` and changes nothing when the key is already present.
    @discardableResult
    public mutating func insert(_ value: Value, forKey key: MapKey) -> Bool {
        guard position(of: key) == nil else { return false }
        append(value, forKey: key)
        return true
    }

    /// The entries in insertion order.
    public var entries: Zip2Sequence<[MapKey], [Value]> { zip(keys, values) }

    private func position(of key: MapKey) -> Int? {
        if let positions { return positions[key] }
        return keys.firstIndex(of: key)
    }

    private mutating func append(_ value: Value, forKey key: MapKey) {
        keys.append(key)
        values.append(value)
        if positions != nil {
            positions?[key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            positions = Self.index(of: keys)
        }
    }

    private mutating func remove(_ key: MapKey) {
        guard let position = position(of: key) else { return }
        keys.remove(at: position)
        values.remove(at: position)
        positions = keys.count > Self.indexThreshold ? Self.index(of: keys) : nil
    }

    private static func index(of keys: [MapKey]) -> [MapKey: Int] {
        var positions: [MapKey: Int] = [:]
        positions.reserveCapacity(keys.count)
        for (position, key) in keys.enumerated() { positions[key] = position }
        return positions
    }

    /// The heap allocations the map owns (see `Value.estimatedRetainedBytes`): its key and value
    /// arrays, the index if built, and what the keys and values own in turn.
    var estimatedHeapBytes: Int {
        let keyBytes = keys.reduce(0) { total, key in
            guard case .string(let string) = key else { return total }
            return total + Value.estimatedHeapBytes(of: string)
        }
        return Value.arrayStorageBytes(capacity: keys.capacity, stride: MemoryLayout<MapKey>.stride)
            + Value.arrayStorageBytes(capacity: values.capacity, stride: MemoryLayout<Value>.stride)
            + Self.indexBytes(positions) + keyBytes + values.reduce(0) { $0 + $1.estimatedHeapBytes }
    }

    /// A dictionary's single allocation: a 64-byte header, an occupancy bitmap and a power-of-two
    /// number of buckets at most three quarters full. Its keys share storage with `keys`.
    private static func indexBytes(_ positions: [MapKey: Int]?) -> Int {
        guard let positions, positions.capacity > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 / 4 < positions.capacity { buckets *= 2 }
        let bitmap = (buckets + 63) / 64 * 8
        return Value.allocationBytes(64 + bitmap + buckets * (MemoryLayout<MapKey>.stride + MemoryLayout<Int>.stride))
    }
}

extension ValueMap: Equatable {
    /// Maps are equal when they have the same keys and CEL-equal values, in any order.
    public static func == (lhs: ValueMap, rhs: ValueMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.entries.allSatisfy { key, value in rhs[key].map { $0 == value } ?? false }
    }
}
