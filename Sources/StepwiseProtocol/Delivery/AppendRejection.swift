import StepwiseExpressions

/// The server's 400 answer to a publish that appends to a run that already ended; the JS SDK
/// swallows it and answers its delivery with 200 (`src/workflow-requests.ts`, text as observed in
/// workflow-js#198).
public struct AppendRejection: Sendable, Equatable {
    /// How the run ended, in the words of the error text (`cancelled`, `finished`, `failed`).
    public var runState: String

    /// A rejection for a run in `runState`.
    public init(runState: String) {
        self.runState = runState
    }

    /// Always 400.
    public var status: Int { 400 }

    /// `{"error": "failed to publish to url: can not append to a a <state> workflow"}`; the doubled
    /// article is QStash's own text, kept so clients matching on it keep working.
    public var jsonBytes: [UInt8] {
        WireJSON.bytes(.map(ValueMap([("error", .string("failed to publish to url: can not append to a a \(runState) workflow"))])))
    }
}
