import StepwiseExpressions
import StepwiseProtocol

/// A resume or restart from the DLQ that cannot be done as asked (options a YAML run cannot
/// take, a YAML run whose workflow is gone or whose input no longer validates); `message` says
/// why, for the caller (a 400). Nothing is changed.
public struct ResumeRefusal: Error, Sendable, Equatable {
    /// Why, naming what is refused.
    public let message: String

    /// A refusal saying `message`.
    init(message: String) {
        self.message = message
    }

    /// The refusal of `options` given at `now` whose delay or rate period cannot work, as in a new
    /// message (`NewMessageRules`); `nil` when they can.
    init?(timing options: ResumeOptions, at now: TimestampValue) {
        var given = MessageOptions()
        given.delay = options.delay
        given.flowControl = options.flowControl
        do throws(ProtocolError) {
            try NewMessageRules.check(given, headerPrefix: "Upstash-", at: now)
            if let failure = options.failureCallback { try NewMessageRules.check(failure.options, headerPrefix: "Upstash-Failure-Callback-", at: now) }
            return nil
        } catch {
            message = error.message
        }
    }

    /// The refusal of `options` for a YAML run, `nil` when it takes them all: a YAML run's label
    /// can change, but its retries, flow control, failure handling and timing are its workflow's.
    init?(yamlRun options: ResumeOptions) {
        let refused = options.headerNames.filter { $0 != "Upstash-Label" }
        guard !refused.isEmpty else { return nil }
        message = "\(refused.joined(separator: ", ")) cannot be given for a YAML run: its retries, flow control, failure handling and timing are its workflow definition's"
    }
}
