/// Text from a server or an endpoint made safe to show on a terminal: control characters
/// (escape sequences that retitle the window or rewrite lines, a carriage return that hides what
/// came before, C1 controls) and bidirectional overrides are written as `\u{1b}`, as the
/// server's log writes them, so what an endpoint answered can never act on the operator's
/// terminal.
enum TerminalText {
    /// `text` with every control character written out; line breaks and tabs stay as they are
    /// when `keepingLineBreaks` (a message of several lines).
    static func visible(_ text: String, keepingLineBreaks: Bool = false) -> String {
        replacingActing(text, keepingLineBreaks: keepingLineBreaks) { "\\u{\(String($0.value, radix: 16))}" }
    }

    /// JSON text with every character that would act on a terminal and that its encoder left as
    /// it is (DEL, C1 controls, bidirectional overrides: only string literals can hold them)
    /// written as a `\uXXXX` escape: the same JSON, read back to the same value.
    static func visible(json text: String) -> String {
        replacingActing(text, keepingLineBreaks: true) { scalar in
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }

    /// `text` with each scalar that acts on a terminal replaced by `written(scalar)`.
    private static func replacingActing(_ text: String, keepingLineBreaks: Bool, _ written: (Unicode.Scalar) -> String) -> String {
        guard text.unicodeScalars.contains(where: { acts($0, keepingLineBreaks) }) else { return text }
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if acts(scalar, keepingLineBreaks) { shown.append(contentsOf: written(scalar).unicodeScalars) } else { shown.append(scalar) }
        }
        return String(shown)
    }

    /// Whether `scalar` would act on a terminal rather than show: a control character (C0, DEL,
    /// C1) or a bidirectional embedding, override or isolate, which reorders what follows.
    private static func acts(_ scalar: Unicode.Scalar, _ keepingLineBreaks: Bool) -> Bool {
        if keepingLineBreaks, scalar == "\n" || scalar == "\t" { return false }
        return scalar.properties.generalCategory == .control || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}
