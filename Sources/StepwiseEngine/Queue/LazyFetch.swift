import StepwiseExpressions
import StepwiseProtocol

/// QStash's lazy fetch (§4.4 of the protocol notes): a delivery whose body would be larger than
/// `threshold` bytes goes out empty, and the SDK reads its run's log itself (`GET
/// /v2/workflows/runs/{id}`, cut at the entry `Upstash-Message-Id` names). Upstash does it above
/// about 3 MB, which keeps a long run's deliveries under the request limits of serverless hosts.
public struct LazyFetch: Sendable, Equatable {
    /// QStash's threshold: "if the workflow state grows larger than 3 Mb".
    public static let upstashThreshold = 3 << 20

    /// The largest body still delivered in full, in bytes.
    public var threshold: Int

    /// Lazy fetch above `threshold` bytes: 0 (or less) sends every delivery that may go out
    /// empty so; no lazy fetch at all is a `nil` `WorkflowEngine.Configuration.lazyFetch`.
    public init(threshold: Int = LazyFetch.upstashThreshold) {
        self.threshold = max(0, threshold)
    }

    /// Whether `message`, whose body is `bytes` long, may go out empty: the SDK that published it
    /// fetches the log (`QueuedMessage.fetchesLog`), and reads the delivery as a log. A step
    /// delivery without the protocol's version (or the unknown-SDK mark) is a first invocation to
    /// the SDK, whose empty body would be an empty payload; a callback says it is one.
    public func mayOmitBody(of message: QueuedMessage, bytes: Int) -> Bool {
        guard message.fetchesLog == true, bytes > threshold, message.runId != nil else { return false }
        switch message.role {
        case .workflow: return carries("Upstash-Workflow-Sdk-Version", message) || carries(WorkflowTrigger.unknownSDKHeader, message)
        case .callback: return carries("Upstash-Workflow-Callback", message)
        case .call, .failureCallback, .plain, .waitTimeout: return false
        }
    }

    private func carries(_ name: String, _ message: QueuedMessage) -> Bool {
        message.headers.contains { $0.name.equalsIgnoringASCIICase(name) }
    }
}
