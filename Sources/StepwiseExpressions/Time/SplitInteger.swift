/// An `Int128` stored as two 64-bit words.
///
/// Swift 6.3 on x86_64 Linux miscompiles async calls through protocol existentials whose
/// arguments contain 16-byte-aligned `Int128` fields (the process jumps to a null or garbage
/// address). Storing the value as two 8-byte words keeps timestamps and durations safe to pass
/// anywhere, while arithmetic still happens on `Int128`.
struct SplitInteger: Sendable, Hashable {
    private let high: Int64
    private let low: UInt64

    init(_ value: Int128) {
        high = Int64(truncatingIfNeeded: value >> 64)
        low = UInt64(truncatingIfNeeded: value)
    }

    var value: Int128 { Int128(high) << 64 | Int128(low) }
}
