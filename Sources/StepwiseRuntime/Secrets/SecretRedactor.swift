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

    /// A redactor for `secrets`: each value, its form without surrounding white space (how it
    /// often reappears in an error) and its JSON-escaped form (how it appears inside a JSON body).
    public init(secrets: [String]) {
        var forms = Set<String>()
        for secret in secrets {
            let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
            for form in [secret, trimmed, Self.jsonEscaped(secret), Self.jsonEscaped(trimmed)] where !form.isEmpty {
                forms.insert(form)
            }
        }
        self.forms = forms.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
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

    /// `response` with its headers and body redacted (the body as UTF-8 text; other bytes pass).
    public func redact(_ response: IncomingResponse) -> IncomingResponse {
        guard !forms.isEmpty else { return response }
        var redacted = response
        redacted.headers = response.headers.map { ($0.name, redact($0.value)) }
        if let text = String(validating: response.body, as: UTF8.self) {
            redacted.body = Array(redact(text).utf8)
        }
        return redacted
    }

    /// `failure` with its message redacted.
    public func redact(_ failure: TransportFailure) -> TransportFailure {
        TransportFailure(failure.kind, redact(failure.message))
    }

    private func redact(_ key: MapKey) -> MapKey {
        if case .string(let text) = key { return .string(redact(text)) }
        return key
    }

    private static func jsonEscaped(_ text: String) -> String {
        String(Value.string(text).jsonText().dropFirst().dropLast())
    }
}
