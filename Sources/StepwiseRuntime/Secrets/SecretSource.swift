import Foundation
import StepwiseExpressions

/// Where secret values come from at send time; never journaled, never logged.
public protocol SecretSource: Sendable {
    /// The value of secret `name`, or `nil` when it is not set.
    func value(of name: String) -> String?
}
