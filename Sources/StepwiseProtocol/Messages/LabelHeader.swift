/// `Upstash-Label`: the labels a run or message is found by, one or several comma-separated
/// (`CommaList`), checked the same way wherever a client gives one (a publish, a trigger, a
/// schedule, a resume); stored messages read again are not checked: what was taken stays taken.
public enum LabelHeader {
    /// The most bytes (UTF-8) of one label.
    public static let maximumLabelBytes = 256
    /// The most bytes of the whole header: its labels are indexed, and an index entry is bounded.
    public static let maximumBytes = 1_024

    /// What is wrong with label text `value` (to follow the header's name), or `nil` when it is
    /// fine: too long, a control character, or no label at all (`,`), which would find nothing.
    private static func problem(_ value: String) -> String? {
        let labels = CommaList.items(value)
        if value.utf8.count > maximumBytes || labels.contains(where: { $0.utf8.count > maximumLabelBytes })
            || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            return "must be at most \(maximumBytes) bytes of labels of at most \(maximumLabelBytes) bytes each, without control characters"
        }
        if labels.isEmpty { return "'\(value)' names no label" }
        return nil
    }

    /// Checks label text `value` given in header `name`; `nil` or empty is no label. An error
    /// names the header and what is wrong.
    public static func check(_ value: String?, header name: String = "Upstash-Label") throws(ProtocolError) {
        guard let value, !value.isEmpty, let problem = problem(value) else { return }
        throw ProtocolError("header '\(name)' \(problem)")
    }

    /// Checks the label of a client's new `message`.
    public static func check(_ message: PublishedMessage) throws(ProtocolError) {
        try check(message.options.label)
    }
}
