import Foundation
import Hummingbird

extension Request {
    /// The query's parameters decoded as a form is (`application/x-www-form-urlencoded`, as Go's
    /// `net/url`, and so QStash, reads them): `+` is a space, then percent-escapes are decoded, in
    /// names and values. Hummingbird's `uri.queryParameters` keeps a `+`, so the label
    /// `nightly batch` that a browser's or the JS SDK's `URLSearchParams` sends as
    /// `nightly+batch` would match nothing. A literal `+` is sent as `%2B`.
    var formParameters: Hummingbird.Parameters {
        guard let query = uri.query, !query.isEmpty else { return [:] }
        return Parameters(query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (key: Self.formDecoded(parts[0]), value: parts.count > 1 ? Self.formDecoded(parts[1]) : "")
        })
    }

    private static func formDecoded(_ text: Substring) -> Substring {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return Substring(spaced.removingPercentEncoding ?? spaced)
    }
}
