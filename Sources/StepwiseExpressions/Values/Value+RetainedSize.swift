extension Value {
    /// An estimate of the memory this value keeps alive: its own slot plus every heap allocation
    /// it owns (string, array and map storage, as the allocator rounds them). Shared storage is
    /// counted once per reference, so the estimate is an upper bound for values that share parts.
    ///
    /// Deterministic and linear in the value's size; meant to be taken once per value, not per use.
    public var estimatedRetainedBytes: Int {
        MemoryLayout<Value>.stride + estimatedHeapBytes
    }

    /// The heap allocations this value owns, without its own slot (which its container counts).
    var estimatedHeapBytes: Int {
        switch self {
        case .null, .bool, .int, .uint, .double, .timestamp, .duration, .type:
            return 0
        case .string(let string):
            return Self.estimatedHeapBytes(of: string)
        case .bytes(let bytes):
            return Self.arrayStorageBytes(capacity: bytes.capacity, stride: 1)
        case .list(let elements):
            return Self.arrayStorageBytes(capacity: elements.capacity, stride: MemoryLayout<Value>.stride)
                + elements.reduce(0) { $0 + $1.estimatedHeapBytes }
        case .map(let map):
            return map.estimatedHeapBytes
        case .optional(let wrapped):
            // An indirect case lives in a heap box holding the payload.
            return Self.allocationBytes(16 + MemoryLayout<Value?>.stride) + (wrapped?.estimatedHeapBytes ?? 0)
        }
    }

    /// What the allocator hands out for a request of `size` bytes: glibc adds an 8-byte header,
    /// rounds to 16 and never gives less than 32.
    static func allocationBytes(_ size: Int) -> Int {
        max(32, (size + 8 + 15) & ~15)
    }

    /// The storage of a non-empty array: a 32-byte header (object header, count, capacity) and
    /// the elements. Empty arrays share one static buffer.
    static func arrayStorageBytes(capacity: Int, stride: Int) -> Int {
        capacity == 0 ? 0 : allocationBytes(32 + capacity * stride)
    }

    /// The storage of a string: none for small strings (up to 15 UTF-8 bytes live inline),
    /// otherwise a 32-byte header, the bytes and a terminating NUL.
    static func estimatedHeapBytes(of string: String) -> Int {
        let count = string.utf8.count
        return count <= 15 ? 0 : allocationBytes(32 + count + 1)
    }
}
