/// Finds the name a person most likely meant, for "did you mean …?" hints.
public enum SpellingSuggestion {
    /// The candidate closest to `word` by edit distance, when it is close enough to be a plausible
    /// typo; of equally close ones, the first in code-point order, so that a hint does not change
    /// from one run to the next when the candidates come from a set.
    ///
    /// Costs O(`word.count` × the candidates' length) at most, and far less for candidates whose length
    /// alone rules them out: a diagnostic for a long misspelled name must not make `validate` slow.
    public static func closest<S: Sequence>(to word: String, among candidates: S) -> String? where S.Element == String {
        let typed = Array(word.lowercased())
        let limit = max(1, word.count / 3)
        var best: (distance: Int, name: String)?
        for candidate in candidates where candidate != word {
            guard let distance = editDistance(typed, Array(candidate.lowercased()), atMost: best?.distance ?? limit) else { continue }
            if let best, (distance, candidate) >= best { continue }
            best = (distance, candidate)
        }
        return best?.name
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit, or nil when it exceeds
    /// `bound`; stops as soon as a whole row of the table exceeds `bound`, since rows never decrease.
    static func editDistance(_ a: [Character], _ b: [Character], atMost bound: Int) -> Int? {
        guard abs(a.count - b.count) <= bound else { return nil }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > bound { return nil }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count] <= bound ? previous[b.count] : nil
    }
}
