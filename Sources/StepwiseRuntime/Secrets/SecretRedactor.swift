import Foundation
import StepwiseExpressions

/// Replaces every text that would reveal a secret with `[redacted]`, in strings, JSON values and
/// responses. Built from what a request revealed (secret values and the header values rendered
/// from them), it is applied to everything derived from that request before it is stored, logged
/// or answered, whatever failed.
public struct SecretRedactor: Sendable, Equatable {
    /// What stands in place of a secret.
    public static let placeholder = "[redacted]"

    /// The forms to replace, longest first so that a secret inside a longer form goes with it.
    private let forms: [String]
    /// The forms' UTF-8 bytes and the secrets' other byte forms (`SecretForms.bytes(of:)`), longest first.
    private let needles: [[UInt8]]
    /// Which bytes a form starts with, by byte value: the byte scan looks for a form only there.
    private let startsForm: [Bool]
    /// The forms beyond ASCII, which another Unicode normalization writes with other bytes.
    private let unicodeForms: [String]

    /// A redactor for `secrets`: each value and the forms in which an endpoint echoes it
    /// (`SecretForms`: trimmed, JSON-escaped, percent-encoded).
    public init(secrets: [String]) {
        let forms = secrets.reduce(into: Set<String>()) { $0.formUnion(SecretForms.of($1)) }
        self.forms = forms.sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0 < $1 }
        let encoded = secrets.reduce(into: Set(forms.map { Array($0.utf8) })) { $0.formUnion(SecretForms.bytes(of: $1)) }
        needles = encoded.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        var starts = [Bool](repeating: false, count: 256)
        for needle in needles { if let first = needle.first { starts[Int(first)] = true } }
        startsForm = starts
        unicodeForms = self.forms.filter { !Self.isASCII($0) }
    }

    /// A redactor that changes nothing (a request without secrets).
    public static let none = SecretRedactor(secrets: [])

    /// Whether there is anything to redact.
    public var isEmpty: Bool { forms.isEmpty }

    /// `text` with every secret form replaced: byte by byte (which a combining mark after a
    /// secret cannot hide, as it does from a comparison of characters), then the forms beyond
    /// ASCII in text beyond ASCII as characters too (which finds a secret written in another
    /// Unicode normalization).
    public func redact(_ text: String) -> String {
        guard !forms.isEmpty else { return text }
        let bytes = Array(text.utf8)
        let scanned = redact(bytes: bytes)
        var result = scanned == bytes ? text : String(decoding: scanned, as: UTF8.self)
        guard !unicodeForms.isEmpty, !Self.isASCII(result) else { return result }
        for form in unicodeForms where result.contains(form) {
            result = result.replacingOccurrences(of: form, with: Self.placeholder)
        }
        return result
    }

    private static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// `value` with every string and map key redacted.
    public func redact(_ value: Value) -> Value {
        guard !forms.isEmpty else { return value }
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
        guard !forms.isEmpty else { return response }
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
        guard !forms.isEmpty else { return body }
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
        var output: [UInt8] = []
        var copied = 0
        var stretch: Range<Int>?
        var index = 0
        while index < bytes.count {
            // Forms are longest first: the first that matches here reaches furthest.
            if startsForm[Int(bytes[index])], let needle = needles.first(where: { Self.matches($0, bytes, at: index) }) {
                let end = index + needle.count
                stretch = stretch.map { $0.lowerBound..<max($0.upperBound, end) } ?? index..<end
            }
            index += 1
            if let covered = stretch, covered.upperBound == index {
                output.append(contentsOf: bytes[copied..<covered.lowerBound])
                output.append(contentsOf: Self.placeholder.utf8)
                copied = covered.upperBound
                stretch = nil
            }
        }
        guard copied > 0 else { return bytes }
        output.append(contentsOf: bytes[copied...])
        return output
    }

    private static func matches(_ needle: [UInt8], _ bytes: [UInt8], at index: Int) -> Bool {
        index + needle.count <= bytes.count && bytes[index..<index + needle.count].elementsEqual(needle)
    }

    /// Whether a string or map key of `value` holds a secret form.
    private func reveals(_ value: Value) -> Bool {
        switch value {
        case .string(let text): redact(text) != text
        case .list(let items): items.contains(where: reveals)
        case .map(let map): map.keys.contains { redact($0) != $0 } || map.values.contains(where: reveals)
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
