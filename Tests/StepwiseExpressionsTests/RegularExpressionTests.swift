import Testing

@testable import StepwiseExpressions

/// One `text.matches(pattern)` expectation.
struct RegexMatchCase: CustomTestStringConvertible, Sendable {
    let pattern: String
    let text: String
    let expected: Bool

    init(_ pattern: String, _ text: String, _ expected: Bool) {
        self.pattern = pattern
        self.text = text
        self.expected = expected
    }

    var testDescription: String {
        "'\(text.debugDescription)'.matches('\(pattern.debugDescription)') == \(expected)"
    }
}

/// One pattern that must be refused, with the expected offset and a fragment of the message.
struct RegexSyntaxErrorCase: CustomTestStringConvertible, Sendable {
    let pattern: String
    let offset: Int
    let messageFragment: String

    init(_ pattern: String, _ offset: Int, _ messageFragment: String) {
        self.pattern = pattern
        self.offset = offset
        self.messageFragment = messageFragment
    }

    var testDescription: String {
        "\(pattern.debugDescription) fails at \(offset)"
    }
}

/// The expectation tables, checked against RE2/Go behaviour.
enum RegexTestTables {
    static let conformanceCases: [RegexMatchCase] = [
        RegexMatchCase("ubb", "hubba", true),
        RegexMatchCase("foo|bar", "", false),
        RegexMatchCase("", "cows", true),
        RegexMatchCase("", "", true),
        RegexMatchCase("gr(a|e)y", "grey", true),
        RegexMatchCase("ba(na)*", "banana", true),
        RegexMatchCase("a+ñ+a+", "mañana", true),
        RegexMatchCase("(a|😀){2}", "🐱😀😀", true),
    ]

    static let literalAndEscapeCases: [RegexMatchCase] = [
        RegexMatchCase("abc", "xxabcxx", true),
        RegexMatchCase("abc", "ab", false),
        RegexMatchCase("a.c", "abc", true),
        RegexMatchCase("a.c", "a\nc", false),
        RegexMatchCase("(?s)a.c", "a\nc", true),
        RegexMatchCase("^.$", "😀", true),
        RegexMatchCase("^..$", "😀", false),
        RegexMatchCase("\\.", "a.b", true),
        RegexMatchCase("\\.", "ab", false),
        RegexMatchCase("\\\\", "a\\b", true),
        RegexMatchCase("\\n", "a\nb", true),
        RegexMatchCase("\\t", "a\tb", true),
        RegexMatchCase("\\r\\f\\v\\a", "\r\u{0C}\u{0B}\u{07}", true),
        RegexMatchCase("\\x41", "A", true),
        RegexMatchCase("\\x{1F600}", "x😀", true),
        RegexMatchCase("\\x{41}", "a", false),
        RegexMatchCase("\\101", "A", true),
        RegexMatchCase("\\0", "\u{0}", true),
        RegexMatchCase("\\12", "\n", true),
        RegexMatchCase("\\Qa.b\\E", "a.b", true),
        RegexMatchCase("\\Qa.b\\E", "axb", false),
        RegexMatchCase("\\Q*+?", "x*+?", true),
        RegexMatchCase("a{", "a{", true),
        RegexMatchCase("a{,3}", "a{,3}", true),
        RegexMatchCase("a{,3}", "aaa", false),
        RegexMatchCase("a{1,2", "a{1,2", true),
        RegexMatchCase("a{01}", "a{01}", true),
        RegexMatchCase("x{}", "x{}", true),
        RegexMatchCase("\\-\\_\\ \\#", "-_ #", true),
    ]

    static let anchorCases: [RegexMatchCase] = [
        RegexMatchCase("^abc", "abcd", true),
        RegexMatchCase("^abc", "xabc", false),
        RegexMatchCase("abc$", "xabc", true),
        RegexMatchCase("abc$", "abc\n", false),
        RegexMatchCase("^$", "", true),
        RegexMatchCase("^b", "a\nb", false),
        RegexMatchCase("(?m)^b", "a\nb", true),
        RegexMatchCase("(?m)a$", "a\nb", true),
        RegexMatchCase("a$", "a\nb", false),
        RegexMatchCase("\\Aab", "ab", true),
        RegexMatchCase("(?m)\\Ab", "a\nb", false),
        RegexMatchCase("a\\z", "ba", true),
        RegexMatchCase("(?m)a\\z", "a\nb", false),
        RegexMatchCase("\\bcat\\b", "a cat sat", true),
        RegexMatchCase("\\bcat\\b", "concatenate", false),
        RegexMatchCase("\\Bcat\\B", "concatenate", true),
        RegexMatchCase("\\bé", " é", false),
        RegexMatchCase("x^y", "x^y", false),
        RegexMatchCase("^*a", "a", true),
    ]

    static let classCases: [RegexMatchCase] = [
        RegexMatchCase("[abc]", "xbx", true),
        RegexMatchCase("[abc]", "xyz", false),
        RegexMatchCase("[a-z]+$", "hello", true),
        RegexMatchCase("^[a-z]+$", "Hello", false),
        RegexMatchCase("[^a-z]", "abc", false),
        RegexMatchCase("[^a-z]", "abc1", true),
        RegexMatchCase("[^a]", "\n", true),
        RegexMatchCase("[]a]", "]", true),
        RegexMatchCase("[^]a]", "]", false),
        RegexMatchCase("[a-]", "-", true),
        RegexMatchCase("[-a]", "-", true),
        RegexMatchCase("[\\]]", "]", true),
        RegexMatchCase("[\\d]", "5", true),
        RegexMatchCase("[\\D]", "5", false),
        RegexMatchCase("[\\Da]", "a", true),
        RegexMatchCase("[.]", "x", false),
        RegexMatchCase("[\\x41-\\x43]", "B", true),
        RegexMatchCase("[α-ω]", "λ", true),
        RegexMatchCase("[😀-😂]", "😁", true),
        RegexMatchCase("[[:alpha:]]", "q", true),
        RegexMatchCase("[[:alpha:]]", "1", false),
        RegexMatchCase("[[:^alpha:]]", "1", true),
        RegexMatchCase("[[:digit:][:upper:]]+$", "A1B2", true),
        RegexMatchCase("[[:space:]]", "\u{0B}", true),
        RegexMatchCase("[[:punct:]]", "!", true),
        RegexMatchCase("[[:xdigit:]]+$", "0fF9", true),
        RegexMatchCase("[[:word:]]", "_", true),
        RegexMatchCase("[[a]", "[", true),
        RegexMatchCase("\\d+", "abc123", true),
        RegexMatchCase("\\d", "٣", false),
        RegexMatchCase("^\\D+$", "abc", true),
        RegexMatchCase("\\w+", "__", true),
        RegexMatchCase("\\w", "é", false),
        RegexMatchCase("^\\W$", "é", true),
        RegexMatchCase("\\s", "a b", true),
        RegexMatchCase("\\s", "a\u{0B}b", false),
        RegexMatchCase("^\\S+$", "abc", true),
    ]

    static let unicodeCases: [RegexMatchCase] = [
        RegexMatchCase("\\pL", "é", true),
        RegexMatchCase("\\pL", "1", false),
        RegexMatchCase("\\p{L}+$", "日本語", true),
        RegexMatchCase("\\p{Lu}", "abc", false),
        RegexMatchCase("\\p{Lu}", "abC", true),
        RegexMatchCase("\\p{Ll}", "É", false),
        RegexMatchCase("\\p{N}", "٣", true),
        RegexMatchCase("\\p{Nd}", "Ⅻ", false),
        RegexMatchCase("\\p{N}", "Ⅻ", true),
        RegexMatchCase("\\p{P}", "¿", true),
        RegexMatchCase("\\p{S}", "€", true),
        RegexMatchCase("\\p{Z}", "\u{00A0}", true),
        RegexMatchCase("\\PL", "abc", false),
        RegexMatchCase("\\PL", "ab1", true),
        RegexMatchCase("\\p{^L}", "1", true),
        RegexMatchCase("\\P{^L}", "a", true),
        RegexMatchCase("\\p{Greek}", "λ", true),
        RegexMatchCase("\\p{Greek}", "l", false),
        RegexMatchCase("^\\p{Cyrillic}+$", "привет", true),
        RegexMatchCase("\\p{Han}", "漢", true),
        RegexMatchCase("[\\p{Greek}\\d]+$", "αβ12", true),
        RegexMatchCase("[^\\pL]", "abc", false),
        RegexMatchCase("\\p{Any}", "😀", true),
    ]

    static let groupCases: [RegexMatchCase] = [
        RegexMatchCase("(?:ab)+$", "ababab", true),
        RegexMatchCase("^(?:ab)+$", "ababa", false),
        RegexMatchCase("(?P<word>\\w+)-(?<digits>\\d+)", "abc-123", true),
        RegexMatchCase("a|b|c", "c", true),
        RegexMatchCase("^(a|b|c)$", "d", false),
        RegexMatchCase("a(|b)c", "ac", true),
        RegexMatchCase("()", "x", true),
        RegexMatchCase("(a)(b)(c)", "abc", true),
        RegexMatchCase("((a|b)(c|d))+$", "acbd", true),
        RegexMatchCase("x(?i)Y|z", "xy", true),
        RegexMatchCase("x(?i)Y|z", "Z", true),
        RegexMatchCase("(?i:a)b", "AB", false),
        RegexMatchCase("(?i:a)b", "Ab", true),
        RegexMatchCase("(a(?i)b)c", "aBc", true),
        RegexMatchCase("(a(?i)b)c", "aBC", false),
        RegexMatchCase("(?i)a(?-i)b", "Ab", true),
        RegexMatchCase("(?i)a(?-i)b", "AB", false),
        RegexMatchCase("(?)a", "a", true),
    ]

    static let quantifierCases: [RegexMatchCase] = [
        RegexMatchCase("ab*c", "ac", true),
        RegexMatchCase("ab+c", "ac", false),
        RegexMatchCase("ab?c", "abc", true),
        RegexMatchCase("^ab?c$", "abbc", false),
        RegexMatchCase("^a{3}$", "aaa", true),
        RegexMatchCase("^a{3}$", "aa", false),
        RegexMatchCase("^a{2,}$", "aaaaa", true),
        RegexMatchCase("^a{2,}$", "a", false),
        RegexMatchCase("^a{2,3}$", "aaaa", false),
        RegexMatchCase("^a{0}$", "", true),
        RegexMatchCase("^a{0,0}b$", "b", true),
        RegexMatchCase("^a{1000}$", String(repeating: "a", count: 1000), true),
        RegexMatchCase("^a{1000}$", String(repeating: "a", count: 999), false),
        RegexMatchCase("^a*?$", "aaa", true),
        RegexMatchCase("^a+?b", "aab", true),
        RegexMatchCase("^a??b", "ab", true),
        RegexMatchCase("^a{2,3}?$", "aaa", true),
        RegexMatchCase("(?U)^a+$", "aaa", true),
        RegexMatchCase("^(a*)*$", "aaa", true),
        RegexMatchCase("^(a*)+b$", "b", true),
        RegexMatchCase("^(a|ab)(c|bcd)(d*)$", "abcd", true),
        RegexMatchCase("(\\b)*x", "x", true),
    ]

    static let caseInsensitiveCases: [RegexMatchCase] = [
        RegexMatchCase("(?i)hello", "HeLLo", true),
        RegexMatchCase("hello", "HELLO", false),
        RegexMatchCase("(?i)[a-c]+$", "ABC", true),
        RegexMatchCase("(?i)[^a]", "A", false),
        RegexMatchCase("(?i)ñ", "Ñ", true),
        RegexMatchCase("(?i)straße", "STRAẞE", true),
        RegexMatchCase("(?i)k", "\u{212A}", true),
        RegexMatchCase("(?i)\u{212A}", "k", true),
        RegexMatchCase("(?i)[\u{212A}]", "K", true),
        RegexMatchCase("(?i)σ", "ς", true),
        RegexMatchCase("(?i)Σ+$", "σς", true),
        RegexMatchCase("(?i)s", "ſ", true),
        RegexMatchCase("(?i)i", "ı", false),
        RegexMatchCase("(?i)\\p{Lu}", "a", true),
        RegexMatchCase("(?i)\\P{Lu}", "a", false),
        RegexMatchCase("(?i)\\w", "\u{212A}", true),
        RegexMatchCase("(?i)[[:upper:]]", "q", true),
        RegexMatchCase("(?i)ΑΒΓ", "αβγ", true),
        RegexMatchCase("(?i)\\x41", "a", true),
    ]

    static let all = conformanceCases + literalAndEscapeCases + anchorCases + classCases + unicodeCases
        + groupCases + quantifierCases + caseInsensitiveCases

    static let syntaxErrorCases: [RegexSyntaxErrorCase] = [
        RegexSyntaxErrorCase("abc(def", 3, "missing closing ')' for group opened at offset 3"),
        RegexSyntaxErrorCase("((a)", 0, "missing closing ')'"),
        RegexSyntaxErrorCase("😀(a", 1, "missing closing ')'"),
        RegexSyntaxErrorCase("ab)", 2, "unmatched ')'"),
        RegexSyntaxErrorCase("*a", 0, "missing argument to repetition operator '*'"),
        RegexSyntaxErrorCase("a|+", 2, "missing argument"),
        RegexSyntaxErrorCase("(?:*)", 3, "missing argument"),
        RegexSyntaxErrorCase("{2}", 0, "missing argument to repetition operator '{2}'"),
        RegexSyntaxErrorCase("a**", 1, "invalid nested repetition operator '**'"),
        RegexSyntaxErrorCase("a*+", 1, "possessive quantifier '*+' is not supported"),
        RegexSyntaxErrorCase("a{2}+", 1, "possessive"),
        RegexSyntaxErrorCase("a??+", 1, "possessive"),
        RegexSyntaxErrorCase("a{2}*", 1, "nested repetition"),
        RegexSyntaxErrorCase("a{1001}", 1, "repetition count 1001 exceeds the maximum of 1000"),
        RegexSyntaxErrorCase("a{1,1001}", 1, "repetition count 1001 exceeds the maximum of 1000"),
        RegexSyntaxErrorCase("a{99999999999}", 1, "exceeds the maximum of 1000"),
        RegexSyntaxErrorCase("a{3,2}", 1, "minimum exceeds the maximum"),
        RegexSyntaxErrorCase("((a{100}){100}){100}", 9, "nested repetition counts multiply"),
        RegexSyntaxErrorCase("[z-a]", 1, "invalid character class range 'z-a'"),
        RegexSyntaxErrorCase("ab[cd", 2, "missing closing ']' for character class opened at offset 2"),
        RegexSyntaxErrorCase("[]", 0, "missing closing ']'"),
        RegexSyntaxErrorCase("[a-", 0, "missing closing ']'"),
        RegexSyntaxErrorCase("[[:foo:]]", 1, "unknown POSIX class '[:foo:]'"),
        RegexSyntaxErrorCase("\\q", 0, "invalid escape sequence '\\q'"),
        RegexSyntaxErrorCase("ab\\", 2, "trailing backslash"),
        RegexSyntaxErrorCase("[\\b]", 1, "invalid escape sequence '\\b'"),
        RegexSyntaxErrorCase("\\8", 0, "invalid escape sequence"),
        RegexSyntaxErrorCase("(a)\\1", 3, "backreferences such as '\\1' are not supported"),
        RegexSyntaxErrorCase("(?P<n>a)(?P=n)", 8, "backreferences"),
        RegexSyntaxErrorCase("a(?=b)", 1, "lookahead assertions '(?=' are not supported"),
        RegexSyntaxErrorCase("a(?!b)", 1, "lookahead"),
        RegexSyntaxErrorCase("(?<=a)b", 0, "lookbehind assertions '(?<=' are not supported"),
        RegexSyntaxErrorCase("(?<!a)b", 0, "lookbehind"),
        RegexSyntaxErrorCase("(?>a)", 0, "atomic groups"),
        RegexSyntaxErrorCase("(?#note)", 0, "comment groups"),
        RegexSyntaxErrorCase("(?x)a", 2, "invalid flag 'x'"),
        RegexSyntaxErrorCase("(?i-)a", 4, "missing flag after '-'"),
        RegexSyntaxErrorCase("(?i", 0, "missing closing ')'"),
        RegexSyntaxErrorCase("(?P<a>x)(?P<a>y)", 12, "duplicate group name 'a'"),
        RegexSyntaxErrorCase("(?P<a b>x)", 4, "invalid group name 'a b'"),
        RegexSyntaxErrorCase("(?P<>x)", 4, "invalid group name ''"),
        RegexSyntaxErrorCase("(?P<name", 0, "missing '>'"),
        RegexSyntaxErrorCase("(?Pa)", 0, "invalid named group"),
        RegexSyntaxErrorCase("\\x4", 0, "invalid hexadecimal escape"),
        RegexSyntaxErrorCase("\\xZZ", 0, "invalid hexadecimal escape"),
        RegexSyntaxErrorCase("\\x{}", 0, "invalid hexadecimal escape"),
        RegexSyntaxErrorCase("\\x{41", 0, "invalid hexadecimal escape"),
        RegexSyntaxErrorCase("\\x{110000}", 0, "is not a Unicode scalar value"),
        RegexSyntaxErrorCase("\\x{D800}", 0, "is not a Unicode scalar value"),
        RegexSyntaxErrorCase("\\p{Foo}", 0, "unknown or unsupported Unicode class '\\p{Foo}'"),
        RegexSyntaxErrorCase("\\pX", 0, "unknown or unsupported Unicode class '\\pX'"),
        RegexSyntaxErrorCase("\\p{L", 0, "missing closing '}'"),
        RegexSyntaxErrorCase("a\\p", 1, "missing Unicode class name"),
        RegexSyntaxErrorCase("\\C", 0, "not supported"),
        RegexSyntaxErrorCase("\\Z", 0, "use '\\z'"),
        RegexSyntaxErrorCase("ñ\\é", 1, "invalid escape sequence"),
    ]
}

@Suite("RegularExpression")
struct RegularExpressionTests {
    @Test("matches like RE2", arguments: RegexTestTables.all)
    func matching(_ testCase: RegexMatchCase) throws {
        let expression = try RegularExpression(testCase.pattern)
        #expect(expression.containsMatch(in: testCase.text) == testCase.expected)
    }

    @Test("refuses what RE2 refuses, saying where", arguments: RegexTestTables.syntaxErrorCases)
    func syntaxErrors(_ testCase: RegexSyntaxErrorCase) {
        #expect {
            _ = try RegularExpression(testCase.pattern)
        } throws: { error in
            guard let syntaxError = error as? RegexSyntaxError else { return false }
            return syntaxError.offset == testCase.offset && syntaxError.message.contains(testCase.messageFragment)
        }
    }

    @Test func errorDescriptionNamesOffsetAndProblem() {
        let error = RegexSyntaxError(message: "unmatched ')'", offset: 2)
        #expect(error.description == "invalid regular expression at offset 2: unmatched ')'")
    }

    @Test func thrownErrorIsTyped() {
        do {
            _ = try RegularExpression("abc(def")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error == RegexSyntaxError(message: "missing closing ')' for group opened at offset 3", offset: 3))
        }
    }

    @Test("pathological patterns finish without backtracking", arguments: ["(a+)+$", "(a|a)*b", "(a*)*b", "(a|aa)+c"])
    func pathologicalInputFinishes(_ pattern: String) throws {
        let text = String(repeating: "a", count: 30_000) + "!"
        let expression = try RegularExpression(pattern)
        #expect(!expression.containsMatch(in: text))
    }

    @Test func pathologicalInputStillFindsMatch() throws {
        let text = String(repeating: "a", count: 30_000) + "b"
        #expect(try RegularExpression("(a|a)*b").containsMatch(in: text))
        #expect(try RegularExpression("^(a+)+b$").containsMatch(in: text))
    }

    @Test func oversizedProgramIsRefused() {
        #expect(throws: RegexSyntaxError.self) {
            _ = try RegularExpression("(abcdefghijklmnopqrstu){1000}")
        }
        #expect(throws: RegexSyntaxError.self) {
            _ = try RegularExpression("[a-z]{1000}[a-z]{1000}" + String(repeating: "x{1000}", count: 20))
        }
        do {
            _ = try RegularExpression("(abcdefghijklmnopqrstu){1000}")
        } catch {
            #expect(error.message.hasPrefix("pattern too large"))
        }
    }

    @Test func largeButBoundedProgramCompiles() throws {
        let expression = try RegularExpression("^(abcdefghij){1000}$")
        #expect(expression.containsMatch(in: String(repeating: "abcdefghij", count: 1000)))
        #expect(!expression.containsMatch(in: String(repeating: "abcdefghij", count: 999)))
    }

    @Test func nestingDepthIsBounded() throws {
        let deep = String(repeating: "(", count: 1000) + "a" + String(repeating: ")", count: 1000)
        #expect(try RegularExpression(deep).containsMatch(in: "a"))
        // Each level adds an alternation, a concatenation and a loop: a deep tree that must be
        // checked, compiled and freed without recursion.
        var layered = "a"
        for _ in 0..<1000 {
            layered = "(" + layered + "*x|y)"
        }
        let expression = try RegularExpression(layered)
        #expect(expression.containsMatch(in: "ax"))
        #expect(!expression.containsMatch(in: "a"))
        let tooDeep = String(repeating: "(", count: 1001) + "a" + String(repeating: ")", count: 1001)
        #expect(throws: RegexSyntaxError.self) {
            _ = try RegularExpression(tooDeep)
        }
    }

    @Test("firstMatch is leftmost-first like Go", arguments: [
        ("a+", "baaab", "aaa"),
        ("a+?", "baaab", "a"),
        ("a|ab", "ab", "a"),
        ("ab|a", "ab", "ab"),
        ("(a|ab)(c|bcd)", "abcd", "abcd"),
        ("x*", "aaa", ""),
        ("\\d{2,3}?", "12345", "12"),
        ("(?U)\\d{2,3}", "12345", "12"),
        ("😀+", "a😀😀b", "😀😀"),
        ("b$", "abab", "b"),
    ])
    func firstMatch(_ pattern: String, _ text: String, _ expected: String) throws {
        let expression = try RegularExpression(pattern)
        let range = try #require(expression.firstMatch(in: text))
        #expect(String(text.unicodeScalars[range]) == expected)
    }

    @Test func firstMatchPositionsAreScalarBased() throws {
        let text = "🐱😀b"
        let range = try #require(try RegularExpression("b").firstMatch(in: text))
        #expect(text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound) == 2)
        #expect(try RegularExpression("c").firstMatch(in: text) == nil)
    }

    @Test func expressionIsReusableAndSendable() async throws {
        let expression = try RegularExpression("^[a-z]+\\d$")
        let results = await withTaskGroup(of: Bool.self) { group in
            for text in ["abc1", "abc", "x9"] {
                group.addTask { expression.containsMatch(in: text) }
            }
            var collected: [Bool] = []
            for await result in group {
                collected.append(result)
            }
            return collected
        }
        #expect(results.filter { $0 }.count == 2)
    }
}
