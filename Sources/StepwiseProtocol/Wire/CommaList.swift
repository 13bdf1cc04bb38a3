/// Upstash's comma-separated lists: the labels of `Upstash-Label: a,b` (a run found by either)
/// and the values of a multi-value filter (`label=a,b`, which also repeats as `label=a&label=b`).
public enum CommaList {
    /// The items of `text` in order, trimmed of spaces and tabs, without empty or repeated ones.
    public static func items(_ text: String) -> [String] {
        var items: [String] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let item = part.trimmingSpaces()
            if !item.isEmpty, !items.contains(item) { items.append(item) }
        }
        return items
    }
}
