import StepwiseExpressions
import StepwiseProtocol

/// What a client's new message must satisfy beyond what a stored message is read with. A
/// schedule's message is read again at every tick, so rules added later apply only here, where a
/// message comes in, and a stored message that breaks one keeps working as it did.
enum NewMessageRules {
    /// Refuses `message`, arriving at `now`, when a label, a time or a limit of its own or of its
    /// callbacks cannot work; the error names the header.
    static func check(_ message: PublishedMessage, at now: TimestampValue) throws(ProtocolError) {
        try LabelHeader.check(message)
        try check(message.options, headerPrefix: "Upstash-", at: now)
        if let callback = message.callback { try check(callback.options, headerPrefix: "Upstash-Callback-", at: now) }
        if let failure = message.failureCallback { try check(failure.options, headerPrefix: "Upstash-Failure-Callback-", at: now) }
    }

    /// Refuses options whose times or limits cannot work: a timeout of 0 (every attempt would
    /// fail after the destination acted), a time after 9999-12-31 (which no store keeps), a rate
    /// period of 0 (which limits nothing).
    static func check(_ options: MessageOptions, headerPrefix prefix: String, at now: TimestampValue) throws(ProtocolError) {
        if options.timeout?.milliseconds == 0 {
            throw ProtocolError("header '\(prefix)Timeout': a timeout of 0 would end every attempt before an answer; leave the header out for the default")
        }
        if let notBefore = options.notBefore, notBefore > TimestampValue.latestSecond.secondsSinceEpoch {
            throw ProtocolError("header '\(prefix)Not-Before': '\(notBefore)' is after \(TimestampValue.latestSecond): the value is unix seconds, not milliseconds")
        }
        if let delay = options.delay, options.notBefore == nil { _ = try now.after(delay, for: "header '\(prefix)Delay': a delay") }
        if options.flowControl?.period?.milliseconds == 0 {
            throw ProtocolError("header '\(prefix)Flow-Control-Value': a period of 0 limits nothing; give at least 1ms, or leave it out for 1s")
        }
    }
}
