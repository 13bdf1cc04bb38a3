/// Reads a YAML mapping by key, remembering which keys were used so that the rest can be
/// reported as unknown, with a did-you-mean among the keys that are allowed there.
struct MappingReader {
    let node: YAMLNode
    let entries: [YAMLEntry]
    /// What the mapping is, for messages: "step 'welcome'", "the http request".
    let context: String

    init?(_ node: YAMLNode, context: String, diagnostics: inout [Diagnostic]) {
        guard case .mapping(let entries) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "\(context) must be a mapping, found \(node.kindDescription)", at: node.span))
            return nil
        }
        self.node = node
        self.entries = entries
        self.context = context
    }

    /// The value of `key`, if present.
    subscript(key: String) -> YAMLNode? {
        entries.first { $0.key.scalarText == key }?.value
    }

    /// The entry of `key`, if present, to point at the key itself.
    func entry(_ key: String) -> YAMLEntry? {
        entries.first { $0.key.scalarText == key }
    }

    /// The keys present, in source order.
    var keys: [String] { entries.compactMap(\.key.scalarText) }

    /// Reports every key not in `allowed`, suggesting the closest allowed one.
    func reportUnknownKeys(allowed: [String], into diagnostics: inout [Diagnostic]) {
        for entry in entries {
            guard let key = entry.key.scalarText else {
                diagnostics.append(Diagnostic(.wrongType, "keys of \(context) must be text", at: entry.key.span))
                continue
            }
            guard !allowed.contains(key) else { continue }
            let suggestion = SpellingSuggestion.closest(to: key, among: allowed)
            diagnostics.append(Diagnostic(
                .unknownKey, "unknown key '\(key)' in \(context)", at: entry.key.span,
                hint: suggestion.map { "did you mean '\($0)'?" } ?? "allowed here: \(allowed.joined(separator: ", "))"))
        }
    }

    /// Reports each of `required` that is missing.
    func reportMissing(_ required: [String], into diagnostics: inout [Diagnostic]) {
        for key in required where self[key] == nil {
            diagnostics.append(Diagnostic(.missingKey, "\(context) is missing required key '\(key)'", at: node.span))
        }
    }
}

import StepwiseExpressions
