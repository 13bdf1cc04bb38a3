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

    /// A redactor for `secrets`: each value and the forms in which an endpoint echoes it
    /// (`SecretForms`: trimmed, JSON-escaped, percent-encoded).
    public init(secrets: [String]) {
        let forms = secrets.reduce(into: Set<String>()) { $0.formUnion(SecretForms.of($1)) }
        self.forms = forms.sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0 < $1 }
    }

    /// A redactor that changes nothing (a request without secrets).
    public static let none = SecretRedactor(secrets: [])

    /// Whether there is anything to redact.
    public var isEmpty: Bool { forms.isEmpty }

    /// `text` with every secret form replaced.
    public func redact(_ text: String) -> String {
        guard !forms.isEmpty else { return text }
        var result = text
        for form in forms where result.contains(form) {
            result = result.replacingOccurrences(of: form, with: Self.placeholder)
        }
        return result
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

    /// `response` with its headers and body redacted: the body as UTF-8 text, or byte by byte
    /// when it is not UTF-8 (Latin-1 text, binary data); and a JSON body once more after decoding,
    /// since a string's escapes (`\u0041` for `A`) can spell a secret no form lists. A JSON body
    /// that revealed a secret only then is written anew from its redacted value.
    public func redact(_ response: IncomingResponse) -> IncomingResponse {
        guard !forms.isEmpty else { return response }
        var redacted = response
        redacted.headers = response.headers.map { ($0.name, redact($0.value)) }
        guard let text = String(validating: response.body, as: UTF8.self) else {
            redacted.body = redact(bytes: response.body)
            return redacted
        }
        let clean = redact(text)
        if let value = try? Value(json: clean), reveals(value) {
            redacted.body = Array(redact(value).jsonText().utf8)
        } else {
            redacted.body = Array(clean.utf8)
        }
        return redacted
    }

    /// `bytes` with the UTF-8 bytes of every secret form replaced, whatever else they hold.
    public func redact(bytes: [UInt8]) -> [UInt8] {
        var result = bytes
        for form in forms {
            let needle = Array(form.utf8)
            guard result.count >= needle.count else { continue }
            var output: [UInt8] = []
            output.reserveCapacity(result.count)
            var index = 0
            while index < result.count {
                if index + needle.count <= result.count, result[index] == needle[0], result[index..<index + needle.count].elementsEqual(needle) {
                    output.append(contentsOf: Self.placeholder.utf8)
                    index += needle.count
                } else {
                    output.append(result[index])
                    index += 1
                }
            }
            result = output
        }
        return result
    }

    /// Whether a string or map key of `value` holds a secret form.
    private func reveals(_ value: Value) -> Bool {
        switch value {
        case .string(let text): forms.contains { text.contains($0) }
        case .list(let items): items.contains(where: reveals)
        case .map(let map): map.keys.contains { if case .string(let key) = $0 { forms.contains { key.contains($0) } } else { false } } || map.values.contains(where: reveals)
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
