import Foundation

/// A raw step array kept as the bytes of its JSON, item by item (`[item,item,…`): the delivery
/// body of the log's first `n` entries is a prefix of these bytes and a closing bracket. A log
/// only grows, so both ends of a delivery can pay for new entries only: the engine encodes what
/// was appended since its last delivery of the run, the runner decodes only what follows the
/// prefix it has already read.
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

    /// Appends items already encoded: `json` is the bytes of one JSON array whose items follow
    /// these (the part of a delivery body after a known prefix), checked to be a JSON array of
    /// raw steps; the steps it holds.
    public mutating func append(encodedArray json: [UInt8]) throws(ProtocolError) -> [RawStep] {
        let steps = try RawStepArray(jsonBytes: json).steps
        for step in steps { append(step) }
        return steps
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
        guard let end = ends.last, body.count > end, Self.bytes(body, beginWith: bytes) else { return nil }
        switch body[end] {
        case UInt8(ascii: "]") where body.count == end + 1: return .equals
        case UInt8(ascii: ","): return .extends([UInt8(ascii: "[")] + body[(end + 1)...])
        default: return nil
        }
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
