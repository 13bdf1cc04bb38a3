import Foundation
import Hummingbird

extension BasicRequestContext {
    /// A path parameter with its percent-encoding removed (`go%20a` is the event `go a`).
    func decoded(_ name: String) -> String? {
        parameters.get(name).map { $0.removingPercentEncoding ?? $0 }
    }
}
