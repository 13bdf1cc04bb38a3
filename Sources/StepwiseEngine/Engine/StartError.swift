/// Why a run could not be started.
public enum StartError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownWorkflow(String)
    case invalidInput([String])
    /// A client's run id that breaks `RunIdentifier`'s rules.
    case invalidRunId(String)
    /// A client's run id that names a run of another workflow (or the engine's own child run).
    case runIdTaken(String)
    case storage(String)
    /// The store cannot be used for now; the same start may succeed later.
    case unavailable(StoreUnavailable)

    public var description: String {
        switch self {
        case .unknownWorkflow(let name): "no workflow named '\(name)' is served"
        case .invalidInput(let problems): "invalid input: " + problems.joined(separator: "; ")
        case .invalidRunId(let problem): "invalid run id: \(problem)"
        case .runIdTaken(let id): "run id '\(id)' belongs to a run of another workflow"
        case .storage(let message): "the store failed: \(message)"
        case .unavailable(let error): error.description
        }
    }
}
