import Foundation

/// The byte sequences a redactor looks for, bucketed by their first byte and longest first in
/// each bucket, so that a scan compares a byte only with the forms that can start there.
struct SecretNeedles: Sendable, Equatable {
    private let buckets: [[[UInt8]]]

    /// Needles for `forms` (empty ones are left out).
    init(_ forms: Set<[UInt8]>) {
        var buckets = [[[UInt8]]](repeating: [], count: 256)
        for form in forms { if let first = form.first { buckets[Int(first)].append(form) } }
        self.buckets = buckets.map { $0.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) } }
        isEmpty = forms.allSatisfy(\.isEmpty)
    }

    /// Whether there is nothing to look for.
    let isEmpty: Bool

    /// The length of the longest needle that starts at `index` of `bytes`, if one does.
    func match(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        return buckets[Int(bytes[index])].first { needle in
            index + needle.count <= bytes.count
                && needle.withUnsafeBufferPointer { $0.baseAddress.map { memcmp(base + index, $0, needle.count) == 0 } ?? false }
        }?.count
    }
}
