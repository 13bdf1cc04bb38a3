/// How serious a diagnostic is: errors make `stepwise validate` fail; warnings only with `--strict`.
public enum Severity: String, Sendable, Hashable, Comparable, Codable {
    case warning
    case error

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
}
