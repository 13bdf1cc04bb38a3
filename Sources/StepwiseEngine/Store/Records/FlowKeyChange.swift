/// An operator's change to a flow-control key (`/v2/flowControl/{key}/…`).
public enum FlowKeyChange: Sendable, Equatable {
    /// New deliveries of the key wait until it is resumed; those in flight finish.
    case pause
    /// The key's waiting deliveries may start again.
    case resume
    /// These limits apply whatever the key's messages carry (only the ones given); the rate
    /// window starts afresh.
    case pin(FlowLimits)
    /// The messages' own limits apply again.
    case unpin(parallelism: Bool, rate: Bool)
    /// The rate window starts afresh: no start counts against it.
    case resetRate

    /// Whether the key's rate window starts afresh.
    var startsRateWindow: Bool {
        switch self {
        case .pin, .resetRate: true
        case .pause, .resume, .unpin: false
        }
    }

    /// Whether the key's waiting messages try again (under limits that may let them go).
    var releasesWaiting: Bool {
        switch self {
        case .resume, .pin, .unpin: true
        case .pause, .resetRate: false
        }
    }
}
