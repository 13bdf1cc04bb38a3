import Foundation
import StepwiseExpressions

/// The request of a `call` step, as the engine stores and performs it. Everything is rendered
/// except secrets, which stay references (`HeaderValue.secret`) until the engine sends the
/// request: a stored call never contains a secret.
public struct CallRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [CallHeader]
    public var body: [UInt8]?
    public var timeout: DurationValue
    /// `expect.status`: statuses that count as success; `nil` means every response is a result.
    public var expectedStatuses: [Int]?
    /// `response`: how to decode the body (`json`, `text`), or by `Content-Type` when `nil`.
    public var responseFormat: String?

    public init(
        method: String, url: String, headers: [CallHeader], body: [UInt8]?, timeout: DurationValue, expectedStatuses: [Int]?,
        responseFormat: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.expectedStatuses = expectedStatuses
        self.responseFormat = responseFormat
    }

    /// The request with secrets resolved from `secrets`; throws naming a secret that is not set.
    /// The result knows which headers carry secrets and what would reveal them (those and every
    /// secret named in `declared`, the workflow's), so that nothing derived from sending it
    /// (errors, responses, redirects) can carry a secret further.
    public func outgoing(secrets: any SecretSource, declared: [String] = []) throws(EvaluationError) -> OutgoingRequest {
        var resolved: [(name: String, value: String)] = []
        var revealed = declared.compactMap(secrets.value(of:))
        var secretHeaderNames: Set<String> = []
        for header in headers {
            let rendered = try header.value.rendered(secrets)
            resolved.append((header.name, rendered.text))
            guard !rendered.secrets.isEmpty else { continue }
            secretHeaderNames.insert(header.name.lowercased())
            revealed += rendered.secrets + [rendered.text]
        }
        return OutgoingRequest(
            method: method, url: url, headers: resolved, body: body, timeout: timeout,
            secretHeaderNames: secretHeaderNames, redactor: SecretRedactor(secrets: revealed))
    }

    /// The request as JSON, for the store.
    public var json: Value {
        var map = ValueMap([
            ("method", .string(method)), ("url", .string(url)),
            ("headers", .list(headers.map { .list([.string($0.name), $0.value.json]) })),
            ("timeoutNanoseconds", .string(String(timeout.nanoseconds))),
        ])
        if let body { map[.string("body")] = .string(Data(body).base64EncodedString()) }
        if let expectedStatuses { map[.string("expect")] = .list(expectedStatuses.map { .int(Int64($0)) }) }
        if let responseFormat { map[.string("response")] = .string(responseFormat) }
        return .map(map)
    }

    /// Reads a request written by `json`; `nil` when it is not one.
    public init?(json: Value) {
        guard case .map(let map) = json, case .string(let method)? = map[.string("method")],
            case .string(let url)? = map[.string("url")], case .list(let headerList)? = map[.string("headers")],
            case .string(let timeoutText)? = map[.string("timeoutNanoseconds")], let nanoseconds = Int128(timeoutText),
            let timeout = try? DurationValue(nanoseconds: nanoseconds)
        else { return nil }
        var headers: [CallHeader] = []
        for item in headerList {
            guard case .list(let pair) = item, pair.count == 2, case .string(let name) = pair[0], let value = HeaderValue(json: pair[1]) else {
                return nil
            }
            headers.append(CallHeader(name: name, value: value))
        }
        var body: [UInt8]?
        if case .string(let encoded)? = map[.string("body")] {
            guard let data = Data(base64Encoded: encoded) else { return nil }
            body = Array(data)
        }
        var expected: [Int]?
        if case .list(let statuses)? = map[.string("expect")] {
            expected = statuses.compactMap { if case .int(let status) = $0 { Int(status) } else { nil } }
        }
        var format: String?
        if case .string(let text)? = map[.string("response")] { format = text }
        self.init(
            method: method, url: url, headers: headers, body: body, timeout: timeout, expectedStatuses: expected, responseFormat: format)
    }
}

/// One header of a stored call.
public struct CallHeader: Sendable, Equatable {
    public var name: String
    public var value: HeaderValue

    public init(name: String, value: HeaderValue) {
        self.name = name
        self.value = value
    }
}

/// A header value that may contain secrets, resolved only when the request is sent.
public indirect enum HeaderValue: Sendable, Equatable {
    case text(String)
    case secret(String)
    /// `Bearer <token>`.
    case bearer(HeaderValue)
    /// `Basic base64(<username>:<password>)`.
    case basic(HeaderValue, HeaderValue)

    /// The value with secrets resolved.
    public func text(_ secrets: any SecretSource) throws(EvaluationError) -> String {
        try rendered(secrets).text
    }

    /// The value with secrets resolved, and every text in it that reveals a secret: the secret
    /// values themselves and, for `basic`, the encoded credentials that contain them.
    func rendered(_ secrets: any SecretSource) throws(EvaluationError) -> (text: String, secrets: [String]) {
        switch self {
        case .text(let text):
            return (text, [])
        case .secret(let name):
            guard let value = secrets.value(of: name) else {
                throw EvaluationError("secret '\(name)' is not set in the engine's environment", kind: .secretMissing)
            }
            return (value, [value])
        case .bearer(let token):
            let rendered = try token.rendered(secrets)
            return ("Bearer " + rendered.text, rendered.secrets)
        case .basic(let username, let password):
            let user = try username.rendered(secrets)
            let pass = try password.rendered(secrets)
            let encoded = Data((user.text + ":" + pass.text).utf8).base64EncodedString()
            let revealed = user.secrets + pass.secrets
            return ("Basic " + encoded, revealed.isEmpty ? [] : revealed + [encoded])
        }
    }

    var json: Value {
        switch self {
        case .text(let text): ["text": .string(text)]
        case .secret(let name): ["secret": .string(name)]
        case .bearer(let token): ["bearer": token.json]
        case .basic(let username, let password): ["basic": .list([username.json, password.json])]
        }
    }

    init?(json: Value) {
        guard case .map(let map) = json, map.count == 1, case .string(let kind) = map.keys[0] else { return nil }
        let value = map.values[0]
        switch (kind, value) {
        case ("text", .string(let text)): self = .text(text)
        case ("secret", .string(let name)): self = .secret(name)
        case ("bearer", let token):
            guard let token = HeaderValue(json: token) else { return nil }
            self = .bearer(token)
        case ("basic", .list(let parts)) where parts.count == 2:
            guard let username = HeaderValue(json: parts[0]), let password = HeaderValue(json: parts[1]) else { return nil }
            self = .basic(username, password)
        default: return nil
        }
    }
}
