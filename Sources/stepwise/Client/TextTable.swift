import Foundation
import StepwiseExpressions

/// Items of an API answer as columns of text aligned with spaces, for the client commands.
enum TextTable {
    /// A column: its header and how a cell is read from an item.
    struct Column {
        let header: String
        let cell: (Value) -> String

        /// A column showing one field of each item (see `Value.text`).
        static func field(_ header: String, _ key: String) -> Column {
            Column(header: header) { $0.text(key) }
        }
    }

    /// A header line and a line per item, each column as wide as its widest cell plus two spaces
    /// (the last one not padded); `empty` when there are no items.
    static func render(_ items: [Value], empty: String, _ columns: Column...) -> String {
        guard !items.isEmpty else { return empty }
        // A cell is one line: a line break in a value (an endpoint's answer) would break the rows.
        let lines = [columns.map(\.header)] + items.map { item in columns.map { Self.oneLine($0.cell(item)) } }
        let widths = columns.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { column, text in
                column == cells.count - 1 ? text : text.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }

    /// `text` without surrounding white space, each line break and tab inside a space, and any
    /// other control character written out (`TerminalText`).
    static func oneLine(_ text: String) -> String {
        TerminalText.visible(
            text.trimmingCharacters(in: .whitespacesAndNewlines)
                .split(omittingEmptySubsequences: true, whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " "))
    }
}
