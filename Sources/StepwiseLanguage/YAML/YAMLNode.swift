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

/// How a scalar's text sits in the source, so that a position inside the decoded text (an
/// expression error) can be turned into the line and column a person sees in the file, across
/// escapes (`\"`, `''`), folded lines and block scalars.
public struct YAMLScalarLayout: Sendable {
    /// How the scalar was written.
    public enum Style: Sendable, Hashable {
        case plain
        case singleQuoted
        case doubleQuoted
        /// A literal (`|`) or folded (`>`) block: the text starts on the line after the indicator.
        case block
    }

    public var style: Style
    let source: SourceLines?

    public init(style: Style, source: SourceLines? = nil) {
        self.style = style
        self.source = source
    }

    /// A plain scalar with no source to consult (positions are counted on one line).
    public static let plain = YAMLScalarLayout(style: .plain)

    /// The source location of `offset` (Unicode scalars) in `text`, a scalar written at `span`.
    public func location(ofOffset offset: Int, in text: String, startingAt span: SourceSpan) -> SourceSpan {
        guard let source else { return span.advanced(by: offset + (style == .plain ? 0 : 1)) }
        var cursor = SourceCursor(lines: source.lines, line: span.line, column: span.column)
        switch style {
        case .plain: break
        case .singleQuoted, .doubleQuoted: cursor.advance()
        case .block: cursor.nextLine()
        }
        cursor.skipIndentation()
        // A block's lines share its first line's indentation; more is content (`  dear …`).
        if style == .block { cursor.blockIndentation = cursor.column - 1 }
        for scalar in text.unicodeScalars.prefix(offset) {
            cursor.consume(scalar, style: style)
        }
        return cursor.span
    }
}
