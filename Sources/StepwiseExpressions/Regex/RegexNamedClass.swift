/// The predefined classes of RE2 syntax: Perl escapes (`\d`), POSIX names (`[:alpha:]`) and Unicode
/// classes (`\p{L}`), resolved to ranges and general categories.
struct RegexNamedClass: Sendable {
    var ranges: [ClosedRange<UInt32>]
    var categories = RegexGeneralCategories()

    /// `\d`, `\s`, `\w` and their upper-case complements are resolved by the caller; like RE2
    /// these are ASCII only (`\s` is `[\t\n\f\r ]`, without `\v`).
    static func perl(_ letter: Unicode.Scalar) -> RegexNamedClass? {
        switch letter {
        case "d", "D": RegexNamedClass(ranges: [0x30...0x39])
        case "s", "S": RegexNamedClass(ranges: [0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
        case "w", "W": RegexNamedClass(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
        default: nil
        }
    }

    /// The POSIX class `[:name:]` (without the brackets and colons), ASCII only as in RE2.
    static func posix(_ name: String) -> RegexNamedClass? {
        guard let ranges = posixRanges[name] else { return nil }
        return RegexNamedClass(ranges: ranges)
    }

    /// The Unicode class `\p{name}`: `Any`, a general category, or a supported script.
    static func unicode(_ name: String) -> RegexNamedClass? {
        if name == "Any" {
            return RegexNamedClass(ranges: [0...0x10FFFF])
        }
        if let categories = RegexGeneralCategories.named(name) {
            return RegexNamedClass(ranges: [], categories: categories)
        }
        if let ranges = RegexUnicodeScript.ranges(named: name) {
            return RegexNamedClass(ranges: ranges)
        }
        return nil
    }

    private static let posixRanges: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A],
        "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0x00...0x7F],
        "blank": [0x09...0x09, 0x20...0x20],
        "cntrl": [0x00...0x1F, 0x7F...0x7F],
        "digit": [0x30...0x39],
        "graph": [0x21...0x7E],
        "lower": [0x61...0x7A],
        "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E],
        "space": [0x09...0x0D, 0x20...0x20],
        "upper": [0x41...0x5A],
        "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
        "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]
}
