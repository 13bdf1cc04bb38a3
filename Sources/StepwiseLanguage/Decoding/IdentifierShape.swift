/// The shape of names in the language: letters of one case and `_`, then digits too.
struct IdentifierShape {
    let letters: ClosedRange<Unicode.Scalar>

    func matches(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, letters.contains(first) || first == "_" else { return false }
        return scalars.allSatisfy { letters.contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
