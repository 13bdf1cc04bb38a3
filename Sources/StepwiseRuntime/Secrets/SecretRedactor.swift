import Foundation
import StepwiseExpressions

/// Replaces every text that would reveal a secret with `[redacted]`, in strings, JSON values and
/// responses. Built from what a request revealed (secret values and the header values rendered
/// from them), it is applied to everything derived from that request before it is stored, logged
/// or answered, whatever failed.
public struct SecretRedactor: Sendable, Equatable {
    /// What stands in place of a secret.
    public static let placeholder = "[redacted]"

    /// The secrets' forms (`SecretForms`), longest first, so that the longest form starting at a
    /// byte is the one found there.
    private let needles: [[UInt8]]
    /// Which bytes a form starts with, by byte value: the byte scan looks for a form only there.
    private let startsForm: [Bool]

    /// A redactor for `secrets`: each value and the forms in which an endpoint echoes it
    /// (`SecretForms`: trimmed, JSON-escaped, percent-encoded).
    public init(secrets: [String]) {
        let encoded = secrets.reduce(into: Set<[UInt8]>()) { $0.formUnion(SecretForms.of($1)) }
        needles = encoded.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        var starts = [Bool](repeating: false, count: 256)
        for needle in needles { if let first = needle.first { starts[Int(first)] = true } }
        startsForm = starts
    }

    /// A redactor that changes nothing (a request without secrets).
    public static let none = SecretRedactor(secrets: [])

    /// Whether there is anything to redact.
    public var isEmpty: Bool { needles.isEmpty }

    /// `text` with every secret form replaced, matched byte by byte: a combining mark after a
    /// secret cannot hide it, as it would from a comparison of characters (`SecretForms` lists
    /// both Unicode normalizations of a secret instead).
    public func redact(_ text: String) -> String {
        guard !needles.isEmpty, reveals(text) else { return text }
        return String(decoding: redact(bytes: Array(text.utf8)), as: UTF8.self)
    }

    /// Whether `text` holds a secret form.
    private func reveals(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable(holdsForm) ?? Array(text.utf8).withUnsafeBufferPointer(holdsForm)
    }

    /// Whether a secret form starts at some byte of `bytes`.
    private func holdsForm(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.indices.contains { startsForm[Int(bytes[$0])] && formLength(at: $0, in: bytes) != nil }
    }

    /// The length of the longest form that starts at `index` of `bytes`, if one does.
    private func formLength(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        return needles.first { needle in
            index + needle.count <= bytes.count
                && needle.withUnsafeBufferPointer { $0.baseAddress.map { memcmp(base + index, $0, needle.count) == 0 } ?? false }
        }?.count
    }

    /// `value` with every string and map key redacted.
    public func redact(_ value: Value) -> Value {
        guard !needles.isEmpty else { return value }
        switch value {
        case .string(let text):
            return .string(redact(text))
        case .list(let items):
            return .list(items.map(redact))
        case .map(let map):
            var redacted = ValueMap()
            for (key, item) in zip(map.keys, map.values) {
                redacted[redact(key)] = redact(item)
            }
            return .map(redacted)
        default:
            return value
        }
    }

    /// `response` with its headers and body redacted (`redact(body:)`).
    public func redact(_ response: IncomingResponse) -> IncomingResponse {
        guard !needles.isEmpty else { return response }
        var redacted = response
        redacted.headers = response.headers.map { ($0.name, redact($0.value)) }
        redacted.body = redact(body: response.body)
        return redacted
    }

    /// A response body redacted as a step reads it. A JSON document first, as decoded (bytes
    /// that are not UTF-8 as U+FFFD, as `ResponseClassification` reads them): its strings'
    /// escapes (`\u0041` for `A`) can spell a secret no form lists, and then it is written anew
    /// from its redacted value. Then the bytes, as UTF-8 text when they are (`redact(_:)`) or
    /// byte by byte when not (Latin-1 text, binary data).
    public func redact(body: [UInt8]) -> [UInt8] {
        guard !needles.isEmpty else { return body }
        var body = body
        // Without a backslash a document's strings are pieces of its bytes, which the byte pass covers.
        if body.contains(UInt8(ascii: "\\")), let value = try? Value(json: String(decoding: body, as: UTF8.self)), reveals(value) {
            body = Array(redact(value).jsonText().utf8)
        }
        guard let text = String(validating: body, as: UTF8.self) else { return redact(bytes: body) }
        return Array(redact(text).utf8)
    }

    /// `bytes` with every stretch that a secret form covers replaced, whatever else they hold:
    /// overlapping forms (two secrets sharing bytes) make one stretch, so no part of either shows.
    public func redact(bytes: [UInt8]) -> [UInt8] {
        guard !needles.isEmpty else { return bytes }
        return bytes.withUnsafeBufferPointer { buffer in
            var output: [UInt8] = []
            var copied = 0
            var stretch: Range<Int>?
            for index in buffer.indices {
                if startsForm[Int(buffer[index])], let length = formLength(at: index, in: buffer) {
                    stretch = stretch.map { $0.lowerBound..<max($0.upperBound, index + length) } ?? index..<(index + length)
                }
                guard let covered = stretch, covered.upperBound == index + 1 else { continue }
                output.append(contentsOf: buffer[copied..<covered.lowerBound])
                output.append(contentsOf: Self.placeholder.utf8)
                copied = covered.upperBound
                stretch = nil
            }
            guard copied > 0 else { return bytes }
            output.append(contentsOf: buffer[copied...])
            return output
        }
    }

    /// Whether a string or map key of `value` holds a secret form.
    private func reveals(_ value: Value) -> Bool {
        switch value {
        case .string(let text): reveals(text)
        case .list(let items): items.contains(where: reveals)
        case .map(let map): map.keys.contains { if case .string(let key) = $0 { reveals(key) } else { false } } || map.values.contains(where: reveals)
        default: false
        }
    }

    /// `failure` with its message redacted.
    public func redact(_ failure: TransportFailure) -> TransportFailure {
        TransportFailure(failure.kind, redact(failure.message))
    }

    private func redact(_ key: MapKey) -> MapKey {
        if case .string(let text) = key { return .string(redact(text)) }
        return key
    }
}
