import StepwiseExpressions

/// The request of `http` and `call` steps.
extension WorkflowDecoder {
    static let requestKeys = ["method", "url", "headers", "query", "body", "auth", "timeout", "expect", "response"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    mutating func request(_ node: YAMLNode, context: String) -> HTTPRequest? {
        guard let reader = MappingReader(node, context: "the \(context) request", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: Self.requestKeys, into: &diagnostics)
        reader.reportMissing(["url"], into: &diagnostics)
        guard let urlNode = reader["url"], let url = valueTemplate(urlNode) else { return nil }
        checkLiteralURL(url)
        var request = HTTPRequest(method: method(reader["method"]) ?? Located("GET", at: node.span), url: url)
        request.headers = reader["headers"].map { namedValues($0, "headers", allowingSecrets: true) } ?? []
        request.query = reader["query"].map { namedValues($0, "query", allowingSecrets: false) } ?? []
        request.body = reader["body"].flatMap { valueTemplate($0) }
        request.auth = reader["auth"].flatMap { authentication($0) }
        request.timeout = reader["timeout"].flatMap { duration($0, "request timeout", atLeastOneMillisecond: true) }
        request.expectedStatuses = reader["expect"].flatMap { expectedStatuses($0) }
        if let responseNode = reader["response"], let format = text(responseNode, "response") {
            if ["json", "text"].contains(format) {
                request.responseFormat = format
            } else {
                diagnostics.append(Diagnostic(
                    .invalidValue, "unknown response format '\(format)'", at: responseNode.span, hint: "use json or text"))
            }
        }
        return request
    }

    private mutating func method(_ node: YAMLNode?) -> Located<String>? {
        guard let node, let text = text(node, "method") else { return nil }
        guard Self.methods.contains(text) else {
            let hint = Self.methods.contains(text.uppercased())
                ? "methods are written in capitals: \(text.uppercased())" : "use one of \(Self.methods.joined(separator: ", "))"
            diagnostics.append(Diagnostic(.invalidValue, "unknown HTTP method '\(text)'", at: node.span, hint: hint))
            return nil
        }
        return Located(text, at: node.span)
    }

    private mutating func checkLiteralURL(_ url: ValueTemplate) {
        switch url.kind {
        case .literal(.string(let text)):
            if !(text.hasPrefix("http://") || text.hasPrefix("https://")) || text.count < 9 {
                diagnostics.append(Diagnostic(
                    .invalidURL, "'\(text)' is not an http:// or https:// URL", at: url.span))
            }
        case .template(let template, _, _):
            if case .text(let prefix) = template.parts.first, !prefix.isEmpty,
                !("https://".hasPrefix(prefix) || "http://".hasPrefix(prefix) || prefix.hasPrefix("http://") || prefix.hasPrefix("https://"))
            {
                diagnostics.append(Diagnostic(.invalidURL, "a URL must start with http:// or https://, not '\(prefix)'", at: url.span))
            }
        case .literal:
            diagnostics.append(Diagnostic(.wrongType, "url must be text", at: url.span))
        default:
            break
        }
    }

    private mutating func namedValues(_ node: YAMLNode, _ what: String, allowingSecrets: Bool) -> [(name: String, value: ValueTemplate)] {
        guard let reader = MappingReader(node, context: what, diagnostics: &diagnostics) else { return [] }
        return reader.entries.compactMap { entry in
            guard let name = text(entry.key, "a \(what) name"),
                let value = valueTemplate(entry.value, allowingSecrets: allowingSecrets)
            else { return nil }
            if case .map = value.kind {
                diagnostics.append(Diagnostic(.wrongType, "\(what) value '\(name)' must be text", at: entry.value.span))
            }
            if what == "headers", !HTTPFieldSyntax.isName(name) {
                diagnostics.append(Diagnostic(
                    .invalidValue, "header name '\(name)' cannot be sent", at: entry.key.span,
                    hint: "an HTTP header name holds letters, digits and !#$%&'*+-.^_`|~ only"))
            }
            return (name, value)
        }
    }

    private mutating func authentication(_ node: YAMLNode) -> HTTPAuthentication? {
        guard let reader = MappingReader(node, context: "auth", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["bearer", "basic"], into: &diagnostics)
        if let bearer = reader["bearer"] {
            return valueTemplate(bearer, allowingSecrets: true).map { .bearer(token: $0) }
        }
        guard let basicNode = reader["basic"] else {
            diagnostics.append(Diagnostic(
                .missingKey, "auth needs bearer or basic", at: node.span, hint: "auth: {bearer: {secret: API_TOKEN}}"))
            return nil
        }
        guard let basic = MappingReader(basicNode, context: "basic auth", diagnostics: &diagnostics) else { return nil }
        basic.reportUnknownKeys(allowed: ["username", "password"], into: &diagnostics)
        basic.reportMissing(["username", "password"], into: &diagnostics)
        guard let username = basic["username"].flatMap({ valueTemplate($0, allowingSecrets: true) }),
            let password = basic["password"].flatMap({ valueTemplate($0, allowingSecrets: true) })
        else { return nil }
        return .basic(username: username, password: password)
    }

    private mutating func expectedStatuses(_ node: YAMLNode) -> [Int]? {
        guard let reader = MappingReader(node, context: "expect", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["status"], into: &diagnostics)
        guard let statusNode = reader["status"] else { return nil }
        let items: [YAMLNode]
        if case .sequence(let list) = statusNode.content { items = list } else { items = [statusNode] }
        guard !items.isEmpty else {
            diagnostics.append(Diagnostic(
                .invalidValue, "expect.status is empty, so every answer would fail the step", at: statusNode.span,
                hint: "list the statuses that succeed, e.g. [200, 201], or leave expect out"))
            return nil
        }
        return items.compactMap { item in
            guard let status = integer(item, "an expected status", minimum: 100) else { return nil }
            guard status.value <= 599 else {
                diagnostics.append(Diagnostic(.invalidValue, "\(status.value) is not an HTTP status", at: item.span))
                return nil
            }
            return status.value
        }
    }
}
