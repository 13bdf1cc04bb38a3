import Foundation

/// The functions an `Upstash-Retry-Delay` expression may call, with their argument counts.
enum RetryDelayFunction: String, Sendable, CaseIterable {
    case pow, sqrt, abs, exp, floor, ceil, round, min, max

    /// How many arguments the function takes.
    var arity: Int {
        switch self {
        case .pow, .min, .max: 2
        default: 1
        }
    }

    /// The function applied to `arguments` (exactly `arity` of them, checked by the parser).
    /// IEEE arithmetic: never traps, may give infinities or NaN, which the caller clamps.
    func apply(_ arguments: [Double]) -> Double {
        let x = arguments.first ?? 0
        let y = arguments.dropFirst().first ?? 0
        switch self {
        case .pow: return Foundation.pow(x, y)
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .exp: return Foundation.exp(x)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .round: return x.rounded(.toNearestOrAwayFromZero)
        case .min: return Swift.min(x, y)
        case .max: return Swift.max(x, y)
        }
    }
}
