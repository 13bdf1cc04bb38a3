import StepwiseExpressions

/// `auth` of a request: credentials taken from declared secrets.
public enum HTTPAuthentication: Sendable {
    case bearer(token: ValueTemplate)
    case basic(username: ValueTemplate, password: ValueTemplate)

    /// The credential values, for secret checks.
    public var values: [ValueTemplate] {
        switch self {
        case .bearer(let token): [token]
        case .basic(let username, let password): [username, password]
        }
    }
}
