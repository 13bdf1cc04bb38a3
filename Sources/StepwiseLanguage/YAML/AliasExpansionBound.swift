import Yams

/// Measures how large and how deep a YAML document becomes once its aliases are expanded, in time
/// linear in the text, before Yams reads the real document. Yams copies an alias's node into every
/// place it is used and hashes mapping keys, so an alias bomb (used as a key, or chained 47,500
/// deep) hangs or overflows the stack inside Yams, before any limit of ours could apply.
///
/// The measure reads a copy of the text in which every `*` followed by an anchor character is a
/// `~`: that copy has no aliases (a `*` that stays is followed by a character no alias name can
/// start with, which libyaml refuses), so Yams reads it in linear time. A `*` that starts a token is
/// an alias in the real text and, in the copy, a plain scalar whose text starts with `~name`; every
/// such scalar is counted as the alias it was, with the size and height of the node last anchored
/// under `name`. A plain `~name` written by hand is counted as an alias too, which can only
/// overestimate. Replacements keep every position, so errors in the copy are errors of the text.
enum AliasExpansionBound {
    /// Why a document is refused before it is read.
    enum Refusal: Error {
        /// More than `limit` nodes once expanded; `at` is the alias whose expansion passes the limit.
        case tooLarge(at: SourceSpan)
        /// More scalar text once expanded than the text itself plus `maximumAddedBytes`, at the
        /// alias whose expansion passes it (few nodes, each a long scalar, copied many times).
        case tooMuchText(at: SourceSpan)
        /// An alias whose expansion nests deeper than the limit, at the alias.
        case tooDeep(at: SourceSpan)
        /// The text cannot be read at all; the error Yams gives for it.
        case unreadable(Error)
    }

    /// How much scalar text aliases may add to a document: what everything after loading reads
    /// grows with it, so it is what keeps a small file's check short.
    static let maximumAddedBytes = 1 << 20

    /// Checks `source` against `maximumNodes` and `maximumDepth` (the root is at depth 0), counting
    /// nodes the way `YAMLLoader` converts them, and against `maximumAddedBytes` of scalar text
    /// added by aliases. Documents without aliases pass without being read.
    static func check(_ source: String, maximumNodes: Int, maximumDepth: Int) -> Refusal? {
        guard let copy = aliasFreeCopy(of: source) else { return nil }
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: copy, resolver: .basic)
            root = try parser.singleRoot()
        } catch {
            return .unreadable(error)
        }
        guard let root else { return nil }
        // Yams holds anchors weakly; the parser keeps them alive while the nodes are measured.
        return withExtendedLifetime(parser) {
            var measure = Measure(
                maximumNodes: maximumNodes, maximumDepth: maximumDepth, maximumBytes: source.utf8.count + maximumAddedBytes)
            do {
                _ = try measure.visit(root, depth: 0)
                return nil
            } catch let refusal as Refusal {
                return refusal
            } catch {
                return .unreadable(error)
            }
        }
    }

    /// The text with every alias indicator `*name` written `~name`, or `nil` when there is none.
    /// Both characters are ASCII, which no byte of a multi-byte UTF-8 sequence can be.
    static func aliasFreeCopy(of source: String) -> String? {
        var bytes = Array(source.utf8)
        var replaced = false
        for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "*") && isAnchorByte(bytes[index + 1]) {
            bytes[index] = UInt8(ascii: "~")
            replaced = true
        }
        return replaced ? String(decoding: bytes, as: UTF8.self) : nil
    }

    private static func isAnchorByte(_ byte: UInt8) -> Bool {
        byte < 0x80 && isAnchorCharacter(Unicode.Scalar(byte))
    }

    /// libyaml's anchor name characters: ASCII letters, digits, `_` and `-`.
    static func isAnchorCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "0"..."9", "A"..."Z", "a"..."z", "_", "-": true
        default: false
        }
    }

    /// The expanded size and height of what was read so far, in document order.
    private struct Measure {
        /// A node's expanded size (saturating just above the limit), height (a scalar is 0) and
        /// scalar text in bytes (saturating just above its limit).
        struct Extent {
            var size: Int
            var height: Int
            var bytes: Int
        }

        let maximumNodes: Int
        let maximumDepth: Int
        let maximumBytes: Int
        var total = 0
        var totalBytes = 0
        var anchors: [String: Extent] = [:]

        init(maximumNodes: Int, maximumDepth: Int, maximumBytes: Int) {
            self.maximumNodes = maximumNodes
            self.maximumDepth = maximumDepth
            self.maximumBytes = maximumBytes
        }

        mutating func visit(_ node: Node, depth: Int) throws -> Extent {
            var extent: Extent
            if let alias = aliasExtent(of: node) {
                // `[*a:x]` is a one-pair mapping in the real text but one scalar here: count the pair.
                extent = alias.extent
                if alias.followedByText {
                    extent = Extent(size: extent.size + 2, height: extent.height + 1, bytes: extent.bytes)
                }
                total = saturated(total + extent.size)
                totalBytes = saturatedBytes(totalBytes + extent.bytes)
                if total > maximumNodes { throw Refusal.tooLarge(at: span(of: node)) }
                if totalBytes > maximumBytes { throw Refusal.tooMuchText(at: span(of: node)) }
                if depth + extent.height > maximumDepth { throw Refusal.tooDeep(at: span(of: node)) }
            } else {
                total = saturated(total + 1)
                if total > maximumNodes { throw Refusal.tooLarge(at: span(of: node)) }
                let ownBytes = node.scalar.map { $0.string.utf8.count } ?? 0
                totalBytes = saturatedBytes(totalBytes + ownBytes)
                extent = Extent(size: 1, height: 0, bytes: ownBytes)
                var children: [Node] = []
                switch node {
                case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
                case .sequence(let sequence): children = Array(sequence)
                case .scalar, .alias: break
                }
                for child in children {
                    let childExtent = try visit(child, depth: depth + 1)
                    extent.size = saturated(extent.size + childExtent.size)
                    extent.bytes = saturatedBytes(extent.bytes + childExtent.bytes)
                    extent.height = max(extent.height, childExtent.height + 1)
                }
            }
            // As in Yams, an anchor is registered once its node is complete, so `&a [*a]` refers
            // to the previous `a`.
            if let anchor = node.anchor {
                anchors[anchor.rawValue] = extent
            }
            return extent
        }

        /// The extent of the anchor a scalar `~name…` stands for, and whether text follows the name.
        private func aliasExtent(of node: Node) -> (extent: Extent, followedByText: Bool)? {
            guard case .scalar(let scalar) = node, scalar.style == .plain else { return nil }
            let text = scalar.string.unicodeScalars
            guard text.first == "~" else { return nil }
            let name = text.dropFirst().prefix(while: isAnchorCharacter)
            guard !name.isEmpty, let extent = anchors[String(name)] else { return nil }
            return (extent, name.count + 1 < text.count)
        }

        private func saturated(_ value: Int) -> Int {
            min(value, maximumNodes + 1)
        }

        private func saturatedBytes(_ value: Int) -> Int {
            min(value, maximumBytes + 1)
        }

        private func span(of node: Node) -> SourceSpan {
            node.mark.map { SourceSpan(line: $0.line, column: $0.column) } ?? .start
        }
    }
}
