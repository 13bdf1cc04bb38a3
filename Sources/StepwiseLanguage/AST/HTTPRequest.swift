import StepwiseExpressions

/// The request of an `http` or `call` step.
public struct HTTPRequest: Sendable {
    public var method: Located<String>
    public var url: ValueTemplate
    public var headers: [(name: String, value: ValueTemplate)]
    public var query: [(name: String, value: ValueTemplate)]
    public var body: ValueTemplate?
    public var auth: HTTPAuthentication?
    public var timeout: Located<DurationValue>?
    /// `expect.status`: the statuses that count as success; others fail the step.
    public var expectedStatuses: [Int]?
    /// `response`: how to decode the body (`json`, `text`), or by `Content-Type` when `nil`.
    public var responseFormat: String?

    /// Whether a response with `status` fails the step: one `expected` does not list; without
    /// `expected`, a 5xx or 429 when `failsOnServerErrors` (`http` steps; a `call` step takes
    /// every status as its result). Any other status is the step's result, never retried.
    public static func statusFails(_ status: Int, expected: [Int]?, failsOnServerErrors: Bool) -> Bool {
        guard let expected else { return failsOnServerErrors && (status >= 500 || status == 429) }
        return !expected.contains(status)
    }

    public init(method: Located<String>, url: ValueTemplate) {
        self.method = method
        self.url = url
        headers = []
        query = []
    }
}
