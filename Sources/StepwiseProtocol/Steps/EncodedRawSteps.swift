import Foundation

/// A raw step array kept as the bytes of its JSON, item by item (`[item,item,…`): the delivery
/// body of the log's first `n` entries is a prefix of these bytes and a closing bracket. A log
/// only grows, so both ends of a delivery can pay for new entries only: the engine encodes what
/// was appended since its last delivery of the run; the runner compares a body with the one it
/// received before (`continuation(of:in:)`) and decodes only what follows.
public struct EncodedRawSteps: Sendable {
    /// `[` and the items so far, comma-separated, without the closing bracket.
    public private(set) var bytes: [UInt8] = [UInt8(ascii: "[")]
    /// Where each item ends in `bytes`.
    private var ends: [Int] = []

    /// An empty array.
    public init() {}

    /// How many items there are.
    public var count: Int { ends.count }

    /// Appends one entry, encoded as `RawStepArray.jsonBytes` encodes it.
    public mutating func append(_ step: RawStep) {
        if !ends.isEmpty { bytes.append(UInt8(ascii: ",")) }
        bytes += WireJSON.bytes(step.json)
        ends.append(bytes.count)
    }

    /// The delivery body of the first `count` items (all of them when `nil`).
    public func body(count: Int? = nil) -> [UInt8] {
        let count = min(count ?? ends.count, ends.count)
        guard count > 0 else { return Array("[]".utf8) }
        return Array(bytes[..<ends[count - 1]]) + [UInt8(ascii: "]")]
    }

    /// How `body` relates to these items: `.extends(rest)` when it is these items followed by
    /// more (`rest` is a JSON array of the others), `.equals` when it is exactly these items,
    /// `nil` otherwise (another log, or a shorter prefix of this one).
    public func continuation(in body: [UInt8]) -> Continuation? {
        ends.isEmpty ? nil : Self.continuation(of: bytes, in: body)
    }

    /// How `body` relates to `known`, the bytes of a JSON array of at least one item without its
    /// closing bracket (as a delivery body of fewer entries was received): see `continuation(in:)`.
    public static func continuation(of known: [UInt8], in body: [UInt8]) -> Continuation? {
        let end = known.count
        guard body.count > end, bytes(body, beginWith: known) else { return nil }
        switch body[end] {
        case UInt8(ascii: "]") where body.count == end + 1: return .equals
        case UInt8(ascii: ","): return .extends([UInt8(ascii: "[")] + body[(end + 1)...])
        default: return nil
        }
    }

    /// The bytes of a received array body without its closing bracket (and the white space
    /// before it), to compare later bodies with; `nil` for what is not a non-empty array's bytes.
    public static func openPrefix(of body: [UInt8]) -> [UInt8]? {
        var end = body.count
        while end > 0, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(body[end - 1]) { end -= 1 }
        guard end > 2, body[end - 1] == UInt8(ascii: "]") else { return nil }
        return Array(body[..<(end - 1)])
    }

    /// Whether `body` begins with `prefix`, compared as memory (the prefix is a whole log).
    private static func bytes(_ body: [UInt8], beginWith prefix: [UInt8]) -> Bool {
        guard body.count >= prefix.count else { return false }
        return body.withUnsafeBytes { body in
            prefix.withUnsafeBytes { prefix in
                guard let start = body.baseAddress, let known = prefix.baseAddress else { return prefix.isEmpty }
                return memcmp(start, known, prefix.count) == 0
            }
        }
    }

    /// What follows a known prefix in a delivery body.
    public enum Continuation: Sendable, Equatable {
        /// Nothing: the body is the known items.
        case equals
        /// A JSON array of the items after the known ones.
        case extends([UInt8])
    }
}
