import Yams

/// Reads a YAML document into `YAMLNode`s with positions, refusing documents that would exhaust
/// memory or the stack: alias expansion beyond `maximumNodes` ("billion laughs") and nesting
/// beyond `maximumDepth`. Problems become diagnostics, never crashes.
public struct YAMLLoader {
    /// The most nodes a document may expand to, counting every alias expansion.
    public static let maximumNodes = 100_000
    /// The deepest nesting of collections accepted.
    public static let maximumDepth = 64

    private let source: String
    private let lines: SourceLines
    private var nodeCount = 0
    /// The positions of the nodes being converted, outermost first, with their index in a parent list.
    private var path: [(span: SourceSpan, position: Int)] = []
    private var diagnostics: [Diagnostic] = []

    private init(source: String) {
        self.source = source
        lines = SourceLines(source)
    }

    /// The document's root node, or `nil` with diagnostics saying why it cannot be read.
    public static func load(_ source: String) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
        if let deep = NestingScanner.firstPositionExceeding(depth: maximumDepth, in: source) {
            return (nil, [Diagnostic(
                .documentTooDeep, "the document nests more than \(maximumDepth) levels deep", at: deep)])
        }
        let node: Node?
        switch parsed(source) {
        case .success(let root): node = root
        case .failure(.refused(let diagnostic)): return (nil, [diagnostic])
        case .failure(.unparsable(let error)): return (nil, diagnostics(forParseError: error, in: source))
        }
        guard let node else { return (nil, [Diagnostic(.notAWorkflow, "the document is empty", at: .start)]) }
        var loader = YAMLLoader(source: source)
        let root = loader.convert(node, depth: 0)
        return (loader.diagnostics.isEmpty ? root : nil, loader.diagnostics)
    }

    /// Why Yams gave no node for a document.
    private enum ParseFailure: Error {
        /// Its aliases would expand past a bound, said by the diagnostic; it was not parsed.
        case refused(Diagnostic)
        /// Yams's error reading it.
        case unparsable(Error)
    }

    /// Yams's root node of `source`, its aliases measured first (`AliasExpansionBound`).
    private static func parsed(_ source: String) -> Result<Node?, ParseFailure> {
        switch AliasExpansionBound.check(source, maximumNodes: maximumNodes, maximumDepth: maximumDepth) {
        case .tooLarge(let alias):
            return .failure(.refused(tooLargeDiagnostic(at: alias)))
        case .tooMuchText(let alias):
            return .failure(.refused(Diagnostic(
                .documentTooLarge,
                "the document expands to more than \(AliasExpansionBound.maximumAddedBytes >> 20) MiB of text beyond its own (through aliases)",
                at: alias, hint: "an alias copies its anchor's text each time it is used; copy what you need instead")))
        case .tooDeep(let alias):
            return .failure(.refused(Diagnostic(
                .documentTooDeep, "the document nests more than \(maximumDepth) levels deep (through aliases)",
                at: alias, hint: "an alias copies its anchor's whole node; aliases inside anchors nest deeper")))
        case .unreadable(let error):
            return .failure(.unparsable(error))
        case nil:
            do {
                return .success(try Parser(yaml: source, resolver: .basic).singleRoot())
            } catch {
                return .failure(.unparsable(error))
            }
        }
    }

    private mutating func convert(_ node: Node, depth: Int, position: Int = 0) -> YAMLNode? {
        nodeCount += 1
        path.append((span(of: node), position))
        defer { path.removeLast() }
        guard nodeCount <= Self.maximumNodes else {
            if nodeCount == Self.maximumNodes + 1 {
                diagnostics.append(expandingAlias().map(Self.tooLargeDiagnostic(at:)) ?? Self.tooManyNodesDiagnostic(at: span(of: node)))
            }
            return nil
        }
        guard depth <= Self.maximumDepth else {
            diagnostics.append(Diagnostic(.documentTooDeep, "nesting deeper than \(Self.maximumDepth) levels", at: span(of: node)))
            return nil
        }
        switch node {
        case .scalar(let scalar):
            return YAMLNode(
                .scalar(scalar.string, isPlain: scalar.style == .plain && scalar.tag.rawValue != Tag.Name.str.rawValue),
                span: span(of: node), layout: layout(of: scalar))
        case .mapping(let mapping):
            var entries: [YAMLEntry] = []
            for (key, value) in mapping {
                guard let key = convert(key, depth: depth + 1), let value = convert(value, depth: depth + 1) else { return nil }
                entries.append(YAMLEntry(key: key, value: value))
            }
            return YAMLNode(.mapping(entries), span: span(of: node))
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for (position, item) in sequence.enumerated() {
                guard let converted = convert(item, depth: depth + 1, position: position) else { return nil }
                items.append(converted)
            }
            return YAMLNode(.sequence(items), span: span(of: node))
        case .alias:
            diagnostics.append(Diagnostic(.yamlSyntax, "unresolved alias", at: span(of: node)))
            return nil
        }
    }

    /// Where the alias that is being expanded is written. Yams gives an alias's copy the position
    /// of its anchor, which lies before the alias; the alias itself is the first `*` after the
    /// position of the last node on the path that was written in place.
    private func expandingAlias() -> SourceSpan? {
        guard let jump = path.indices.dropFirst().first(where: { path[$0].span < path[$0 - 1].span }) else { return nil }
        let parent = path[jump - 1].span
        var remaining = path[jump].position
        let text = lines.lines
        for lineNumber in parent.line...min(text.count, parent.line + 1_000) {
            let line = text[lineNumber - 1]
            let start = lineNumber == parent.line ? parent.column - 1 : 0
            for column in line.indices.dropFirst(start) where line[column] == "*" {
                if remaining == 0 { return SourceSpan(line: lineNumber, column: column + 1) }
                remaining -= 1
            }
        }
        return nil
    }

    private func span(of node: Node) -> SourceSpan {
        node.mark.map { SourceSpan(line: $0.line, column: $0.column) } ?? .start
    }

    private func layout(of scalar: Node.Scalar) -> YAMLScalarLayout {
        switch scalar.style {
        case .singleQuoted: YAMLScalarLayout(style: .singleQuoted, source: lines)
        case .doubleQuoted: YAMLScalarLayout(style: .doubleQuoted, source: lines)
        case .literal, .folded: YAMLScalarLayout(style: .block, source: lines)
        default: YAMLScalarLayout(style: .plain, source: lines)
        }
    }

    private static func tooLargeDiagnostic(at span: SourceSpan) -> Diagnostic {
        Diagnostic(
            .documentTooLarge, "the document expands to more than \(maximumNodes) nodes (through aliases)",
            at: span, hint: "aliases that refer to aliases multiply; copy what you need instead")
    }

    /// A document over the bound without any alias: it is simply that big.
    private static func tooManyNodesDiagnostic(at span: SourceSpan) -> Diagnostic {
        Diagnostic(
            .documentTooLarge, "the document has more than \(maximumNodes) nodes (keys, values and list items); the node here is past that bound",
            at: span, hint: "move a part of the workflow into another file and run it with invoke")
    }

    /// The most duplicate keys reported for one document; each one found costs a parse.
    public static let maximumDuplicateKeysReported = 20
    /// How much text the search for further duplicate keys may parse in all, so a large document
    /// is not read twenty times over.
    static let duplicateKeySearchBytes = 4 << 20

    /// The diagnostic for a parse error, and for a duplicate key every further duplicate key as
    /// well: Yams stops at the first, so the text is parsed again with each duplicate renamed in
    /// place, until it holds no other duplicate or the report is long enough.
    private static func diagnostics(forParseError error: Error, in source: String) -> [Diagnostic] {
        var found = [diagnostic(forParseError: error, in: source)]
        var text = source
        var last = duplicate(in: error, source: source)
        let affordableParses = max(1, duplicateKeySearchBytes / max(1, source.utf8.count))
        while found.count < min(maximumDuplicateKeysReported, affordableParses), let duplicate = last,
            let renamed = DuplicateKeyLocator.renamingKey(duplicate.key, at: duplicate.span, in: text, uniquely: found.count),
            case .failure(.unparsable(let next)) = parsed(renamed), let following = Self.duplicate(in: next, source: renamed), following.span != duplicate.span
        {
            found.append(diagnostic(forParseError: next, in: renamed))
            text = renamed
            last = following
        }
        return found.sorted { $0.span < $1.span }
    }

    /// The key a duplicate-key error names and where it is written the second time.
    private static func duplicate(in error: Error, source: String) -> (key: String, span: SourceSpan)? {
        guard case .duplicatedKeysInMapping(let duplicates, let context)? = error as? YamlError else { return nil }
        var key = duplicates.first ?? "?"
        // The alias-free copy read by `AliasExpansionBound` writes an alias `*a` as `~a`.
        if key.hasPrefix("~"), source.contains("*" + key.dropFirst()) { key = "*" + key.dropFirst() }
        return (key, DuplicateKeyLocator.secondOccurrence(of: key, after: context.mark, in: source))
    }

    private static func diagnostic(forParseError error: Error, in source: String) -> Diagnostic {
        guard let error = error as? YamlError else {
            return Diagnostic(.yamlSyntax, "cannot read the document: \(error)", at: .start)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let span = SourceSpan(line: mark.line, column: mark.column)
            let message = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            if let hint = FlowTemplateHint.hint(forErrorAt: span, in: source) {
                return Diagnostic(.unquotedTemplate, "YAML: \(message)", at: hint.span, hint: hint.text)
            }
            return Diagnostic(.yamlSyntax, "YAML: \(message)", at: span)
        case .duplicatedKeysInMapping:
            let found = duplicate(in: error, source: source) ?? (key: "?", span: .start)
            return Diagnostic(
                .duplicateKey, "duplicate key '\(found.key)' in a mapping", at: found.span,
                hint: "YAML keeps only one of them; remove or rename the other")
        case .reader(let problem, _, _, _):
            return Diagnostic(.yamlSyntax, "YAML: \(problem)", at: .start)
        default:
            return Diagnostic(.yamlSyntax, "YAML: \(error)", at: .start)
        }
    }
}
