import Foundation
import StepwiseExpressions

/// Secrets from the process environment.
public struct EnvironmentSecrets: SecretSource {
    private let environment: [String: String]

    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    public func value(of name: String) -> String? { environment[name] }
}
