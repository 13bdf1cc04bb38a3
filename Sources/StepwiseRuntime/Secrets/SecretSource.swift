import Foundation
import StepwiseExpressions

/// Where secret values come from at send time; never journaled, never logged.
public protocol SecretSource: Sendable {
    func value(of name: String) -> String?
}
