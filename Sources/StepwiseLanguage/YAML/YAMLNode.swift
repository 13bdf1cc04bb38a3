/// A YAML node with its location, converted from Yams so it can cross actors (`Sendable`) and
/// carry what the language needs: whether a scalar was quoted, whether a collection was flow style.
public struct YAMLNode: Sendable {
    /// What the node holds.
    public indirect enum Content: Sendable {
        /// A scalar's text; `isPlain` is false for quoted and block scalars, which are always strings.
        case scalar(String, isPlain: Bool)
        case mapping([YAMLEntry])
        case sequence([YAMLNode])
    }

    public var content: Content
    public var span: SourceSpan
    /// For scalars: how the text maps back to source columns (see `YAMLScalarLayout`).
    public var layout: YAMLScalarLayout

    public init(_ content: Content, span: SourceSpan, layout: YAMLScalarLayout = .plain) {
        self.content = content
        self.span = span
        self.layout = layout
    }

    /// The scalar text, when this node is a scalar.
    public var scalarText: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// A word for the node's kind, for messages ("a mapping", "a list", "text").
    public var kindDescription: String {
        switch content {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

/// One key and value of a YAML mapping.
public struct YAMLEntry: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// How a scalar's text sits in the source, so that a position inside the text (an expression
/// error) can be turned into a line and column.
public enum YAMLScalarLayout: Sendable, Hashable {
    /// Plain text starting at the node's column.
    case plain
    /// Quoted: the text starts one column after the quote.
    case quoted
    /// A literal or folded block: the text starts on the next line, at `indentation` + 1.
    case block(indentation: Int)

    /// The source location of `offset` (Unicode scalars) in `text`, a scalar starting at `span`.
    public func location(ofOffset offset: Int, in text: String, startingAt span: SourceSpan) -> SourceSpan {
        let before = text.unicodeScalars.prefix(offset)
        let newlines = before.filter { $0 == "\n" }.count
        let column = before.reversed().prefix { $0 != "\n" }.count
        switch self {
        case .plain:
            return newlines == 0 ? span.advanced(by: offset) : SourceSpan(line: span.line + newlines, column: column + 1)
        case .quoted:
            return newlines == 0 ? span.advanced(by: offset + 1) : SourceSpan(line: span.line + newlines, column: column + 1)
        case .block(let indentation):
            return SourceSpan(line: span.line + 1 + newlines, column: indentation + column + 1)
        }
    }
}
