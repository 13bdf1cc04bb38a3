/// `Upstash-Label`: the labels a run or message is found by, one or several comma-separated
/// (`CommaList`), checked the same way wherever one is given (a publish, a trigger, a resume).
public enum LabelHeader {
    /// The longest label text taken.
    public static let maximumLength = 256

    /// What is wrong with label text `value` (to follow the header's name), or `nil` when it is
    /// fine: too long, a control character, or no label at all (`,`), which would find nothing.
    public static func problem(_ value: String) -> String? {
        if value.count > maximumLength || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must be at most \(maximumLength) characters without control characters"
        }
        if CommaList.items(value).isEmpty { return "'\(value)' names no label" }
        return nil
    }
}
