import Testing
@testable import StepwiseExpressions

@Suite("SpellingSuggestion")
struct SpellingSuggestionTests {
    @Test("suggests the closest plausible name, the first in order of equals, and nothing far away")
    func suggestsTheClosestName() {
        let names = ["order-fulfillment", "order-refund", "invoice"]
        #expect(SpellingSuggestion.closest(to: "order-fullfilment", among: names) == "order-fulfillment")
        #expect(SpellingSuggestion.closest(to: "ordre-refund", among: names) == "order-refund")
        #expect(SpellingSuggestion.closest(to: "shipping", among: names) == nil)
        #expect(SpellingSuggestion.closest(to: "ab", among: ["ay", "ax"]) == "ax")
        #expect(SpellingSuggestion.closest(to: "ab", among: Set(["ay", "ax", "az"])) == "ax", "of equals, the first in order, whatever the set's")
        #expect(SpellingSuggestion.closest(to: "Invoice", among: names) == "invoice")
    }

    // How long this takes is measured by the fuzz run (`stepwise-fuzz yaml`), not here.
    @Test("a name thousands of characters long gets no suggestion")
    func aVeryLongNameGetsNone() {
        let long = "ord" + String(repeating: "s", count: 5_000) + "r-fullfilment"
        #expect(SpellingSuggestion.closest(to: long, among: ["order-fulfillment", "invoice"]) == nil)
    }

    @Test("the bounded distance agrees with the full table on random words")
    func boundedDistanceAgreesWithTheFullTable() {
        var generator = SeededGenerator(seed: 20261206)
        for _ in 0..<2_000 {
            let a = randomWord(using: &generator)
            let b = randomWord(using: &generator)
            let bound = Int.random(in: 0...8, using: &generator)
            let exact = fullDistance(a, b)
            #expect(SpellingSuggestion.editDistance(a, b, atMost: bound) == (exact <= bound ? exact : nil), "\(String(a)) / \(String(b)) within \(bound)")
        }
    }

    private func randomWord(using generator: inout SeededGenerator) -> [Character] {
        (0..<Int.random(in: 0...9, using: &generator)).map { _ in "abc".randomElement(using: &generator) ?? "a" }
    }

    /// The optimal-string-alignment distance from the whole table, as the textbook writes it.
    private func fullDistance(_ a: [Character], _ b: [Character]) -> Int {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
