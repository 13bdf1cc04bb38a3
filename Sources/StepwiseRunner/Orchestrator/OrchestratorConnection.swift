import StepwiseRuntime

/// Where the runner's QStash is and how to authenticate to it: `QSTASH_URL` and `QSTASH_TOKEN`,
/// as Upstash's `serve` reads them (Stepwise's engine or Upstash QStash itself).
public struct OrchestratorConnection: Sendable, CustomStringConvertible, CustomReflectable {
    /// The base URL, without a trailing slash (`http://127.0.0.1:8080`, `https://qstash.upstash.io`).
    public var url: String
    /// The bearer token.
    public var token: String

    /// A connection to `url` with `token`; trailing slashes are dropped, since a path starting
    /// with `//` is refused by Stepwise's engine.
    public init(url: String, token: String) {
        var base = Substring(url)
        while base.hasSuffix("/") { base = base.dropLast() }
        self.url = String(base)
        self.token = token
    }

    /// The URL as errors and the start line show it: without a user name or password in it.
    public var shownURL: String { OutgoingRequest.withoutUserInfo(url) }

    /// The URL shown, never the token.
    public var description: String { "QStash at \(shownURL)" }

    /// `dump` and debuggers show the description, never the token.
    public var customMirror: Mirror { Mirror(self, children: ["url": shownURL, "token": "redacted"]) }
}
