import StepwiseExpressions
import StepwiseProtocol

extension ResumeOptions {
    /// When the next delivery of a run resumed or restarted at `now` is due: `delay` later.
    func due(at now: TimestampValue) -> TimestampValue {
        delay.map { now.movedForward(by: .milliseconds($0.milliseconds)) } ?? now
    }
}
