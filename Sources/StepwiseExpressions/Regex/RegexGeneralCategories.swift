/// A set of Unicode general categories, as named by `\p{Lu}`, `\pN` and friends.
struct RegexGeneralCategories: OptionSet, Sendable, Hashable {
    let rawValue: UInt64

    init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The set holding only `category`.
    init(_ category: Unicode.GeneralCategory) {
        self.init(rawValue: 1 << Self.bitIndex(of: category))
    }

    /// Whether `scalar`'s general category is in the set.
    func contains(_ scalar: Unicode.Scalar) -> Bool {
        rawValue & (1 << Self.bitIndex(of: scalar.properties.generalCategory)) != 0
    }

    /// The categories called `name` in RE2 syntax (`L`, `Lu`, `Nd`, …), or nil for an unknown name.
    ///
    /// As in RE2/Go, `C` covers Cc, Cf, Co and Cs but not unassigned code points.
    static func named(_ name: String) -> RegexGeneralCategories? {
        if let category = twoLetterNames[name] {
            return RegexGeneralCategories(category)
        }
        guard name.count == 1 else { return nil }
        let members = twoLetterNames.filter { $0.key.hasPrefix(name) }.map { RegexGeneralCategories($0.value) }
        guard !members.isEmpty else { return nil }
        return members.reduce(into: RegexGeneralCategories()) { $0.formUnion($1) }
    }

    private static let twoLetterNames: [String: Unicode.GeneralCategory] = [
        "Lu": .uppercaseLetter, "Ll": .lowercaseLetter, "Lt": .titlecaseLetter,
        "Lm": .modifierLetter, "Lo": .otherLetter,
        "Mn": .nonspacingMark, "Mc": .spacingMark, "Me": .enclosingMark,
        "Nd": .decimalNumber, "Nl": .letterNumber, "No": .otherNumber,
        "Pc": .connectorPunctuation, "Pd": .dashPunctuation, "Ps": .openPunctuation,
        "Pe": .closePunctuation, "Pi": .initialPunctuation, "Pf": .finalPunctuation,
        "Po": .otherPunctuation,
        "Sm": .mathSymbol, "Sc": .currencySymbol, "Sk": .modifierSymbol, "So": .otherSymbol,
        "Zs": .spaceSeparator, "Zl": .lineSeparator, "Zp": .paragraphSeparator,
        "Cc": .control, "Cf": .format, "Cs": .surrogate, "Co": .privateUse,
    ]

    private static func bitIndex(of category: Unicode.GeneralCategory) -> UInt64 {
        switch category {
        case .uppercaseLetter: 0
        case .lowercaseLetter: 1
        case .titlecaseLetter: 2
        case .modifierLetter: 3
        case .otherLetter: 4
        case .nonspacingMark: 5
        case .spacingMark: 6
        case .enclosingMark: 7
        case .decimalNumber: 8
        case .letterNumber: 9
        case .otherNumber: 10
        case .connectorPunctuation: 11
        case .dashPunctuation: 12
        case .openPunctuation: 13
        case .closePunctuation: 14
        case .initialPunctuation: 15
        case .finalPunctuation: 16
        case .otherPunctuation: 17
        case .mathSymbol: 18
        case .currencySymbol: 19
        case .modifierSymbol: 20
        case .otherSymbol: 21
        case .spaceSeparator: 22
        case .lineSeparator: 23
        case .paragraphSeparator: 24
        case .control: 25
        case .format: 26
        case .surrogate: 27
        case .privateUse: 28
        case .unassigned: 29
        @unknown default: 29
        }
    }
}
