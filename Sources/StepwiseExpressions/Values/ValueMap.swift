/// An insertion-ordered map from `MapKey` to `Value`: JSON objects keep their member order.
public struct ValueMap: Sendable {
    public private(set) var keys: [MapKey] = []
    public private(set) var values: [Value] = []
    private var positions: [MapKey: Int] = [:]

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
        get { positions[key].map { values[$0] } }
        set {
            guard let newValue else {
                remove(key)
                return
            }
            if let position = positions[key] {
                values[position] = newValue
            } else {
                positions[key] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Adds an entry; returns `false` and changes nothing when the key is already present.
    @discardableResult
    public mutating func insert(_ value: Value, forKey key: MapKey) -> Bool {
        guard positions[key] == nil else { return false }
        self[key] = value
        return true
    }

    /// The entries in insertion order.
    public var entries: Zip2Sequence<[MapKey], [Value]> { zip(keys, values) }

    private mutating func remove(_ key: MapKey) {
        guard let position = positions.removeValue(forKey: key) else { return }
        keys.remove(at: position)
        values.remove(at: position)
        for index in position..<keys.count { positions[keys[index]] = index }
    }
}

extension ValueMap: Equatable {
    /// Maps are equal when they have the same keys and CEL-equal values, in any order.
    public static func == (lhs: ValueMap, rhs: ValueMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.entries.allSatisfy { key, value in rhs[key].map { $0 == value } ?? false }
    }
}
