/// QStash's way to give the API token in a query (`?qstash_token=…`): it admits a request, and
/// must not go on into what the request stores (a destination URL, a webhook call's URL).
public enum TokenParameter {
    /// The parameter's name.
    public static let name = "qstash_token"

    /// `target` (a path or URL with its query) without the token parameter, otherwise unchanged.
    public static func removed(from target: String) -> String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        let kept = target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).filter { parameter in
            parameter != name && !parameter.hasPrefix(name + "=")
        }
        return String(target[..<mark]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }
}
