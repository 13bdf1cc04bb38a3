import StepwiseExpressions

/// Derives new inputs from seeds: bit flips, byte insertion and deletion, duplicated chunks,
/// splices of two seeds, truncation, and tokens that mean something to the format under test
/// (YAML anchors and aliases, brackets, template markers, deep nesting, long text, Unicode).
struct Mutator {
    /// Byte strings worth inserting for the target's format.
    let tokens: [[UInt8]]
    /// The longest input produced; longer results are cut, so that inputs stay small and fast.
    let maximumLength: Int

    /// Tokens that matter to YAML and to CEL templates.
    static let yamlAndExpressionTokens: [String] = [
        "&a ", "*a", "&b [*a, *a, *a, *a]", "*b", "<<: *a", "? ", ": ", "- ", "[", "]", "{", "}", ",", "${{", "}}",
        "${{ input.x }}", "'", "\"", "|\n  ", ">-\n  ", "#", "!!str ", "!!binary ", "---\n", "...\n", "\n", "\n  ", "\t",
        "%YAML 1.1\n", "\\", "\\u", "0x", "1e400", "-9223372036854775808", "18446744073709551616", ".size()", ".map(x, x)",
        ".filter(x, x > 0)", ".exists(x, true)", "? :", " && ", " || ", " ? 1 : 2", "[1, 2, 3]", "{'a': 1}", "b'\\xff'",
        "r'''", "'''", "matches('(a+)+$')", "duration('1h')", "timestamp('2026-01-01T00:00:00Z')", "dyn(", "int(",
        "string(", "steps.", "input.", "env.", "item.", "é", "𝄞", "\u{2028}", "\u{85}", "\u{FEFF}", "\u{0}", "\r\n", "\r",
    ]

    /// Tokens that matter to HTTP/1.1 framing.
    static let httpTokens: [String] = [
        "\r\n", "\r\n\r\n", "\n", "Content-Length: 0\r\n", "Content-Length: -1\r\n", "Content-Length: 18446744073709551616\r\n",
        "Content-Length: 99999999\r\n", "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: chunked, identity\r\n",
        "0\r\n\r\n", "ffffffffffffffff\r\n", "5\r\nhello\r\n", "Expect: 100-continue\r\n", "Connection: close\r\n",
        "Connection: keep-alive\r\n", "Host: 127.0.0.1\r\n", "Content-Type: application/json\r\n", "Content-Type: text/plain\r\n",
        " HTTP/1.1", " HTTP/1.0", " HTTP/2.0", "GET ", "POST ", "DELETE ", "/../", "%00", "%2e%2e", "?a=1&a=2", "#",
        ":", " ", "\t", "{", "}", "[", "\"", "\\u0000", "null", "1e400", "é", "\u{0}",
    ]

    init(tokens: [String], maximumLength: Int) {
        self.tokens = tokens.map { Array($0.utf8) }
        self.maximumLength = maximumLength
    }

    /// One to four mutations of a seed chosen at random, some of them splicing in another seed.
    func mutate(_ seeds: [[UInt8]], using generator: inout SeededGenerator) -> [UInt8] {
        var input = seeds.randomElement(using: &generator) ?? []
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            mutateOnce(&input, seeds: seeds, using: &generator)
        }
        return Array(input.prefix(maximumLength))
    }

    private func mutateOnce(_ input: inout [UInt8], seeds: [[UInt8]], using generator: inout SeededGenerator) {
        let position = input.isEmpty ? 0 : Int.random(in: 0...input.count, using: &generator)
        switch Int.random(in: 0..<10, using: &generator) {
        case 0 where !input.isEmpty:
            let index = Int.random(in: 0..<input.count, using: &generator)
            input[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        case 1:
            input.insert(UInt8.random(in: 0...255, using: &generator), at: position)
        case 2 where !input.isEmpty:
            let start = Int.random(in: 0..<input.count, using: &generator)
            input.removeSubrange(start..<min(input.count, start + Int.random(in: 1...8, using: &generator)))
        case 3 where !input.isEmpty:
            let start = Int.random(in: 0..<input.count, using: &generator)
            let chunk = input[start..<min(input.count, start + Int.random(in: 1...64, using: &generator))]
            input.insert(contentsOf: chunk, at: position)
        case 4:
            // Splice: this input's head with another seed's tail.
            let other = seeds.randomElement(using: &generator) ?? []
            let cut = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &generator)
            input = Array(input.prefix(position)) + other.suffix(from: cut)
        case 5:
            input.removeSubrange(position...)
        case 6:
            let opening = Bool.random(using: &generator) ? "[" : "{"
            input.insert(contentsOf: Array(String(repeating: opening, count: Int.random(in: 1...200, using: &generator)).utf8), at: position)
        case 7:
            let letter = UInt8.random(in: UInt8(ascii: "a")...UInt8(ascii: "z"), using: &generator)
            input.insert(contentsOf: [UInt8](repeating: letter, count: Int.random(in: 100...5_000, using: &generator)), at: position)
        default:
            input.insert(contentsOf: tokens.randomElement(using: &generator) ?? [], at: position)
        }
    }
}
