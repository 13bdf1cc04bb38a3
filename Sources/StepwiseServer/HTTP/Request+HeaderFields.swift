import Hummingbird
import StepwiseProtocol

extension Request {
    /// The headers in arrival order, original spelling, as the wire module reads them.
    var headerFields: HeaderFields {
        HeaderFields(headers.map { ($0.name.rawName, $0.value) })
    }
}
