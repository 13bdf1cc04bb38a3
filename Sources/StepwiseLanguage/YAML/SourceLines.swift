/// The lines of a source file, shared by every scalar of a document.
public final class SourceLines: Sendable {
    let lines: [[Unicode.Scalar]]

    public init(_ source: String) {
        lines = LineBreaks.normalized(source).unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
    }
}
