import StepwiseExpressions
import StepwiseProtocol

extension TimestampValue {
    /// This instant plus `duration`, or the nearest end of the representable range when it leaves
    /// it: a time too late to name stays the latest, never now.
    func movedForward(by duration: Duration) -> TimestampValue {
        let nanoseconds = Int128(duration.components.seconds) * 1_000_000_000 + Int128(duration.components.attoseconds / 1_000_000_000)
        return TimestampValue(clampingNanosecondsSinceEpoch: nanosecondsSinceEpoch + nanoseconds)
    }

    /// This instant `delay` later, for a time a client asked for; an error naming `what` when that
    /// is after `TimestampValue.latestSecond`, the latest time the engine keeps.
    func after(_ delay: WireDuration, for what: String) throws(ProtocolError) -> TimestampValue {
        guard let due = try? TimestampValue(nanosecondsSinceEpoch: nanosecondsSinceEpoch + Int128(delay.milliseconds) * 1_000_000) else {
            throw ProtocolError("\(what) of \(delay) ends after \(TimestampValue.latestSecond)")
        }
        return due
    }

    /// This instant minus `duration`, or the nearest end of the representable range when it leaves it.
    func movedBack(by duration: Duration) -> TimestampValue {
        movedForward(by: .zero - duration)
    }
}
