/// YAML's line breaks are `\n`, `\r\n` and a lone `\r`; Swift's `split(separator: "\n")` over
/// Characters sees only the first (`"\r\n"` is one Character). Whatever counts lines in a source
/// reads it through `normalized`, so that a file saved on Windows (or a hostile one mixing breaks)
/// is measured as YAML reads it.
enum LineBreaks {
    /// `text` with every `\r\n` and lone `\r` written as `\n`; columns are unchanged.
    static func normalized(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\r")) else { return text }
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n", previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            scalars.append(previousWasCR ? "\n" : scalar)
        }
        return String(scalars)
    }
}
