/// Where a run stands.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case running
    case succeeded
    case failed
    case canceled

    /// Whether the run has ended and nothing more will happen to it.
    public var isFinal: Bool { self != .running }

    /// The statuses of ended runs, as stored (for queries over `runs_by_status`).
    public static var finalValues: [String] { allCases.filter(\.isFinal).map(\.rawValue) }
}
