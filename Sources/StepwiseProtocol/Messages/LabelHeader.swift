/// `Upstash-Label`: the labels a run or message is found by, one or several comma-separated
/// (`CommaList`), checked the same way wherever one is given (a publish, a trigger, a resume).
public enum LabelHeader {
    /// The longest label taken.
    public static let maximumLength = 256

    /// What is wrong with label text `value` (to follow the header's name), or `nil` when it is
    /// fine: a label longer than `maximumLength`, a control character, or no label at all (`,`),
    /// which would find nothing.
    public static func problem(_ value: String) -> String? {
        let labels = CommaList.items(value)
        if labels.contains(where: { $0.count > maximumLength }) || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must name labels of at most \(maximumLength) characters each, without control characters"
        }
        if labels.isEmpty { return "'\(value)' names no label" }
        return nil
    }

    /// Checks the label of a client's new `message` (a publish, a trigger, a schedule); an error
    /// names the header. Stored messages read again are not checked: what was taken stays taken.
    public static func check(_ message: PublishedMessage) throws(ProtocolError) {
        guard let label = message.options.label, let problem = problem(label) else { return }
        throw ProtocolError("header 'Upstash-Label' \(problem)")
    }
}
