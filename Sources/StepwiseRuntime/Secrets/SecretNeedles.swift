import Foundation

/// The byte sequences a redactor looks for, bucketed by their first two bytes and longest first in
/// each bucket, so that a scan compares a byte only with the forms that can start there: text made
/// of a secret's first byte over and over costs one lookup a byte, not a comparison with every form.
struct SecretNeedles: Sendable, Equatable {
    /// Whether some needle starts with the byte: most bytes of a body are rejected by this alone.
    private let starts: [Bool]
    /// Needles of two bytes or more by their first two bytes (`first << 8 | second`).
    private let buckets: [UInt16: [[UInt8]]]
    /// Whether the byte alone is a needle.
    private let singles: [Bool]

    /// Needles for `forms` (empty ones are left out).
    init(_ forms: Set<[UInt8]>) {
        var starts = [Bool](repeating: false, count: 256)
        var singles = [Bool](repeating: false, count: 256)
        var buckets: [UInt16: [[UInt8]]] = [:]
        for form in forms {
            guard let first = form.first else { continue }
            starts[Int(first)] = true
            guard form.count > 1 else {
                singles[Int(first)] = true
                continue
            }
            buckets[Self.key(first, form[1]), default: []].append(form)
        }
        self.starts = starts
        self.singles = singles
        self.buckets = buckets.mapValues { $0.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) } }
        isEmpty = !starts.contains(true)
    }

    /// Whether there is nothing to look for.
    let isEmpty: Bool

    /// The length of the longest needle that starts at `index` of `bytes`, if one does.
    func match(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let first = bytes[index]
        guard starts[Int(first)], let base = bytes.baseAddress else { return nil }
        if index + 1 < bytes.count, let bucket = buckets[Self.key(first, bytes[index + 1])],
            let needle = bucket.first(where: { needle in
                index + needle.count <= bytes.count
                    && needle.withUnsafeBufferPointer { $0.baseAddress.map { memcmp(base + index, $0, needle.count) == 0 } ?? false }
            })
        {
            return needle.count
        }
        return singles[Int(first)] ? 1 : nil
    }

    private static func key(_ first: UInt8, _ second: UInt8) -> UInt16 {
        UInt16(first) << 8 | UInt16(second)
    }
}
