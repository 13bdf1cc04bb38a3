/// The kind of a journal entry, named as in Upstash Workflow's step JSON (`stepType`).
public enum StepType: String, Sendable, Hashable, CaseIterable {
    case initial = "Initial"
    case run = "Run"
    case sleepFor = "SleepFor"
    case sleepUntil = "SleepUntil"
    case call = "Call"
    case wait = "Wait"
    case notify = "Notify"
    case invoke = "Invoke"
}
