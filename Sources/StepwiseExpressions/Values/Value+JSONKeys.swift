extension Value {
    /// The text of a map key that another key of the same map also becomes when written as JSON
    /// (`1` and `'1'`, `true` and `'true'`), searched through nested lists and maps; `nil` when
    /// the value reads back from JSON as it is. Only maps with a key that is not a string can
    /// collide, and JSON has none, so values read from JSON cost one walk and no set.
    public var collidingJSONKey: String? {
        switch self {
        case .list(let items):
            for item in items {
                if let key = item.collidingJSONKey { return key }
            }
            return nil
        case .map(let map):
            if map.keys.contains(where: { if case .string = $0 { false } else { true } }) {
                var seen = Set<String>()
                for key in map.keys where !seen.insert(key.text).inserted { return key.text }
            }
            for item in map.values {
                if let key = item.collidingJSONKey { return key }
            }
            return nil
        default:
            return nil
        }
    }
}
