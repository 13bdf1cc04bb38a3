/// Simple (one scalar to one scalar) Unicode case folding, as used by the `i` flag.
///
/// Two scalars match case-insensitively when they lie in the same orbit: the set reachable through
/// single-scalar lowercase, uppercase and titlecase mappings, in either direction.
enum RegexCaseFolding {
    /// The scalars equivalent to `scalar` under simple case folding, `scalar` first.
    static func orbit(of scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.isASCII, let fast = asciiOrbit(of: scalar) {
            return fast
        }
        var members = [scalar]
        var index = 0
        // Orbits hold at most four scalars, so the linear `contains` is cheaper than a set.
        while index < members.count {
            for neighbour in neighbours(of: members[index]) where !members.contains(neighbour) {
                members.append(neighbour)
            }
            index += 1
        }
        return members
    }

    /// ASCII orbits are hot in case-insensitive matching; only k and s have non-ASCII members.
    private static func asciiOrbit(of scalar: Unicode.Scalar) -> [Unicode.Scalar]? {
        let value = scalar.value
        let isUpper = (0x41...0x5A).contains(value)
        let isLower = (0x61...0x7A).contains(value)
        guard isUpper || isLower else { return [scalar] }
        let lower = isUpper ? value + 0x20 : value
        if lower == 0x6B || lower == 0x73 {
            return nil
        }
        let other = isUpper ? value + 0x20 : value - 0x20
        guard let otherScalar = Unicode.Scalar(other) else { return [scalar] }
        return [scalar, otherScalar]
    }

    private static func neighbours(of scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        let properties = scalar.properties
        // Dotless i uppercases to I, but simple case folding keeps it apart from i/I (Turkic rules).
        if scalar.value != 0x131 {
            for mapping in [properties.lowercaseMapping, properties.uppercaseMapping, properties.titlecaseMapping] {
                if let single = singleScalar(mapping), single != scalar {
                    result.append(single)
                }
            }
        }
        for value in reverseMappings[scalar.value] ?? [] {
            if let extra = Unicode.Scalar(value) {
                result.append(extra)
            }
        }
        return result
    }

    private static func singleScalar(_ string: String) -> Unicode.Scalar? {
        var scalars = string.unicodeScalars.makeIterator()
        guard let first = scalars.next(), scalars.next() == nil else { return nil }
        return first
    }

    /// Scalars whose case mapping leads to a scalar that does not map back, keyed by that target,
    /// so the orbit can be walked from either end (e.g. KELVIN SIGN lowercases to k, but k never
    /// maps to KELVIN SIGN). Derived from UnicodeData.txt.
    private static let reverseMappings: [UInt32: [UInt32]] = [
        0x53: [0x17F], 0x6B: [0x212A], 0xDF: [0x1E9E], 0xE5: [0x212B],
        0x392: [0x3D0], 0x395: [0x3F5], 0x398: [0x3D1], 0x399: [0x1FBE, 0x345],
        0x39A: [0x3F0], 0x39C: [0xB5], 0x3A0: [0x3D6], 0x3A1: [0x3F1],
        0x3A3: [0x3C2], 0x3A6: [0x3D5], 0x3B8: [0x3F4], 0x3C9: [0x2126],
        0x412: [0x1C80], 0x414: [0x1C81], 0x41E: [0x1C82], 0x421: [0x1C83],
        0x422: [0x1C84, 0x1C85], 0x42A: [0x1C86], 0x462: [0x1C87], 0x1E60: [0x1E9B],
        0xA64A: [0x1C88],
    ]
}
