import Foundation
import StepwiseExpressions

/// Replaces what would reveal a secret with `[redacted]`, in strings, JSON values and responses:
/// the forms of `SecretForms`, wherever they are in the bytes, and JSON string literals whose
/// escapes spell one; a JSON object or array stays JSON, however short the secret. Built from
/// what a request revealed (secret values and the header values rendered from them), it is
/// applied to everything derived from that request before it is stored, logged or answered,
/// whatever failed.
public struct SecretRedactor: Sendable, Equatable {
    /// What stands in place of a secret.
    public static let placeholder = "[redacted]"

    /// The forms a UTF-8 text may hold (`SecretForms.Forms.text`): looked for everywhere.
    private let textForms: SecretNeedles
    /// The other forms (`SecretForms.Forms.foreign`): looked for only in bytes that are not
    /// UTF-8, where they cannot be the bytes of another character.
    private let foreignForms: SecretNeedles

    /// A redactor for `secrets`: each value and the forms in which an endpoint echoes it (`SecretForms`).
    public init(secrets: [String]) {
        let forms = secrets.map(SecretForms.of)
        textForms = SecretNeedles(forms.reduce(into: []) { $0.formUnion($1.text) })
        foreignForms = SecretNeedles(forms.reduce(into: []) { $0.formUnion($1.foreign) })
    }

    /// A redactor that changes nothing (a request without secrets).
    public static let none = SecretRedactor(secrets: [])

    /// Whether there is anything to redact.
    public var isEmpty: Bool { textForms.isEmpty && foreignForms.isEmpty }

    /// `text` redacted as a body is (`redact(body:)`), matched byte by byte: a combining mark
    /// after a secret cannot hide it, as it would from a comparison of characters (`SecretForms`
    /// lists both Unicode normalizations of a secret instead).
    public func redact(_ text: String) -> String {
        guard !isEmpty else { return text }
        let bytes = Array(text.utf8)
        let redacted = redact(body: bytes)
        return redacted == bytes ? text : String(decoding: redacted, as: UTF8.self)
    }

    /// `value` with every string, map key and byte string redacted, and every number or literal
    /// (`true`, `null`) whose JSON text holds a secret replaced by the placeholder string.
    public func redact(_ value: Value) -> Value {
        guard !isEmpty else { return value }
        switch value {
        case .null, .bool, .int, .uint, .double:
            return redacting(Array(value.jsonText().utf8), foreign: false) == nil ? value : .string(Self.placeholder)
        case .string(let text):
            return .string(redact(text))
        case .bytes(let bytes):
            return .bytes(redact(body: bytes))
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

    /// `response` with its header names and values and its body redacted (`redact(body:)`).
    public func redact(_ response: IncomingResponse) -> IncomingResponse {
        guard !isEmpty else { return response }
        var redacted = response
        redacted.headers = response.headers.map { (redact($0.name), redact($0.value)) }
        redacted.body = redact(body: response.body)
        return redacted
    }

    /// A response body (or any bytes) redacted: first each JSON string literal whose escapes
    /// spell a secret (`EscapedStringLiterals`, written anew from its redacted content), then
    /// every form in the bytes; the forms that are not UTF-8 only when the body is not either.
    /// A JSON object or array whose bytes hold a form is redacted value by value instead
    /// (`redactingJSONValues`), so that a match across its syntax (a secret `true` in
    /// `{"ok": true}`) never leaves a body that is no longer JSON.
    public func redact(body: [UInt8]) -> [UInt8] {
        guard !isEmpty else { return body }
        let literalsDone = redactingEscapedLiterals(body) ?? body
        guard let redacted = redacting(literalsDone, foreign: needsForeignForms(literalsDone)) else { return literalsDone }
        return redactingJSONValues(literalsDone) ?? redacted
    }

    /// `bytes` read as a JSON object or array, redacted value by value (`redact(_:)` of a
    /// `Value`) and written anew; `nil` when they are not one.
    private func redactingJSONValues(_ bytes: [UInt8]) -> [UInt8]? {
        let opening = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard opening == UInt8(ascii: "{") || opening == UInt8(ascii: "["), let text = String(validating: bytes, as: UTF8.self),
            let document = try? Value(json: text)
        else { return nil }
        return Array(redact(document).jsonText().utf8)
    }

    /// Whether the forms that are not UTF-8 are looked for in `bytes`: when there are any, and
    /// the bytes are not UTF-8 either.
    private func needsForeignForms(_ bytes: [UInt8]) -> Bool {
        !foreignForms.isEmpty && String(validating: bytes, as: UTF8.self) == nil
    }

    /// `failure` with its message redacted.
    public func redact(_ failure: TransportFailure) -> TransportFailure {
        TransportFailure(failure.kind, redact(failure.message))
    }

    private func redact(_ key: MapKey) -> MapKey {
        if case .string(let text) = key { return .string(redact(text)) }
        return key
    }

    /// How deep JSON held in a string literal is decoded in turn (`{"inner": "{\"t\": \"…\"}"}`).
    private static let literalDepth = 4

    /// `bytes` with each escaped string literal that spells a secret replaced by the literal of
    /// its redacted content (itself redacted so, down to `literalDepth`); `nil` when there is none.
    private func redactingEscapedLiterals(_ bytes: [UInt8], depth: Int = 0) -> [UInt8]? {
        guard depth < Self.literalDepth, bytes.contains(UInt8(ascii: "\\")) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            var output: [UInt8] = []
            var copied = 0
            for literal in EscapedStringLiterals.find(in: buffer) {
                let inner = redactingEscapedLiterals(literal.decoded, depth: depth + 1)
                let content = inner ?? literal.decoded
                guard let clean = redacting(content, foreign: needsForeignForms(content)) ?? inner else { continue }
                output.append(contentsOf: buffer[copied..<literal.span.lowerBound])
                output.append(contentsOf: Value.string(String(decoding: clean, as: UTF8.self)).jsonText().utf8)
                copied = literal.span.upperBound
            }
            guard copied > 0 else { return nil }
            output.append(contentsOf: buffer[copied...])
            return output
        }
    }

    /// `bytes` with every stretch that a form covers replaced, or `nil` when no form is there:
    /// overlapping forms (two secrets sharing bytes) make one stretch, so no part of either shows.
    private func redacting(_ bytes: [UInt8], foreign: Bool) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { buffer in
            var output: [UInt8] = []
            var copied = 0
            var stretch: Range<Int>?
            for index in buffer.indices {
                var found = textForms.match(at: index, in: buffer)
                if foreign, let other = foreignForms.match(at: index, in: buffer) { found = max(found ?? 0, other) }
                if let length = found {
                    stretch = stretch.map { $0.lowerBound..<max($0.upperBound, index + length) } ?? index..<(index + length)
                }
                guard let covered = stretch, covered.upperBound == index + 1 else { continue }
                output.append(contentsOf: buffer[copied..<covered.lowerBound])
                output.append(contentsOf: Self.placeholder.utf8)
                copied = covered.upperBound
                stretch = nil
            }
            guard copied > 0 else { return nil }
            output.append(contentsOf: buffer[copied...])
            return output
        }
    }
}
