import Testing
import StepwiseLanguage

/// YAML built to exhaust the loader: aliases that chain deeper than the stack, alias bombs used as
/// mapping keys (which Yams hashes while reading). Each must become one diagnostic, quickly.
@Suite("Hostile YAML")
struct HostileYAMLTests {
    private func diagnostics(_ yaml: String) -> [Diagnostic] {
        WorkflowFile(path: "hostile.yaml", source: yaml).diagnostics
    }

    /// Nine levels of ten aliases: a billion nodes, written in a few hundred bytes.
    private static let bombAnchors: String = {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return yaml
    }()

    @Test("an alias chain 47,500 levels deep is refused as too deep, not a crash")
    func deepAliasChain() {
        var yaml = "a0: &a0 [x]\n"
        for level in 1..<47_500 { yaml += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        let found = diagnostics(yaml)
        #expect(found.map(\.code) == [.documentTooDeep])
        // `a63: &a63 [*a62]`: the alias sits at depth 2 and expands 63 levels.
        #expect(found.first?.span == SourceSpan(line: 64, column: 12))
    }

    @Test("aliases may add up to 1 MiB of text: a 100 KB anchored text used five times loads, used fifty times it is refused")
    func aliasedText() {
        let text = String(repeating: "x", count: 100_000)
        func yaml(uses: Int) -> String {
            "workflow: texts\nsteps:\n  - id: keep\n    set:\n      a: &a \(text)\n      b: [" + Array(repeating: "*a", count: uses).joined(separator: ", ") + "]\n"
        }
        #expect(!diagnostics(yaml(uses: 5)).contains { $0.code == .documentTooLarge })
        let refused = diagnostics(yaml(uses: 50))
        #expect(refused.map(\.code) == [.documentTooLarge])
        #expect(refused.first?.message.contains("MiB of text") == true)
    }

    @Test("an alias bomb used as a block mapping key is refused as too large")
    func bombAsBlockKey() {
        let yaml = Self.bombAnchors + "? *a8\n: boom\nworkflow: bomb\n"
        let found = diagnostics(yaml)
        #expect(found.map(\.code) == [.documentTooLarge])
        // The anchors alone pass 100,000 nodes in `a4`, before the key is reached.
        #expect(found.first?.span.line == 5)
    }

    @Test("a document over 100,000 nodes without aliases is refused as too big, with no word of aliases")
    func tooManyNodesWithoutAliases() {
        var yaml = "workflow: big\nsteps:\n"
        for index in 0..<35_000 { yaml += "  - id: s\(index)\n    set: {v: \(index)}\n" }
        let found = diagnostics(yaml)
        #expect(found.map(\.code) == [.documentTooLarge])
        #expect(found.first?.message.contains("more than 100000 nodes") == true)
        #expect(found.first?.message.contains("alias") == false)
        #expect(found.first?.hint?.contains("invoke") == true)
        // Five nodes before the steps, seven a step: node 100,001 is the mapping of step 14,285.
        #expect(found.first?.span.line == 3 + 2 * 14_285)
    }

    @Test("an alias bomb used as a flow mapping key is refused as too large")
    func bombAsFlowKey() {
        let yaml = Self.bombAnchors + "boom: {*a8 : 1, *a7 : 2}\n"
        #expect(diagnostics(yaml).map(\.code) == [.documentTooLarge])
    }

    @Test("anchors redefined under the same name are measured by their latest definition")
    func redefinedAnchor() {
        let yaml = Self.bombAnchors + "a0: &a8 small\nkey: {*a8 : 1}\n"
        // Only the duplicate key `a0` is wrong: `*a8` now names the scalar `small`.
        #expect(diagnostics(yaml).map(\.code) == [.duplicateKey])
    }

    @Test("shared headers written once with an anchor load and validate, with positions of the anchor")
    func ordinaryAnchors() throws {
        let yaml = """
            workflow: shared-headers
            input:
              type: object
              properties:
                token: {type: string}
            steps:
              - id: first
                http:
                  method: GET
                  url: https://example.com/a
                  headers: &h {Accept: application/json, X-Token: "${{ input.token }}"}
              - id: second
                http:
                  method: GET
                  url: https://example.com/b
                  headers: *h
            """
        let file = WorkflowFile(path: "shared.yaml", source: yaml)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        let (root, _) = YAMLLoader.load(yaml)
        let steps = try #require(root?.value(at: ["steps"]))
        guard case .sequence(let items) = steps.content, items.count == 2 else {
            Issue.record("steps is not a list of two")
            return
        }
        let first = try #require(items[0].value(at: ["http", "headers"]))
        let second = try #require(items[1].value(at: ["http", "headers"]))
        // A node's position is where its anchor is written.
        #expect(first.span == SourceSpan(line: 11, column: 16))
        // Yams gives an alias's copy the position of its anchor.
        #expect(second.span == first.span)
    }

    @Test("a type error inside an anchored node is reported where the node is written")
    func errorInsideAnchor() {
        let yaml = """
            workflow: shared-timeout
            steps:
              - id: first
                sleep: &pause 2 parsecs
              - id: second
                sleep: *pause
            """
        let found = diagnostics(yaml)
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.span.line == 4 }, "\(found)")
    }

    @Test("a small alias as a mapping key still works, also written without a space before the colon")
    func smallAliasKeys() throws {
        let yaml = "name: &k greeting\nblock:\n  ? *k\n  : 1\nflow: {*k : 2}\npair: [*k:3]\n"
        let (root, found) = YAMLLoader.load(yaml)
        #expect(found.isEmpty, "\(found)")
        for path in [["block"], ["flow"]] {
            guard case .mapping(let entries)? = root?.value(at: path)?.content else {
                Issue.record("\(path) is not a mapping")
                continue
            }
            #expect(entries.map { $0.key.scalarText } == ["greeting"])
        }
        guard case .sequence(let pairs)? = root?.value(at: ["pair"])?.content, case .mapping(let entries)? = pairs.first?.content else {
            Issue.record("pair is not a list holding a mapping")
            return
        }
        #expect(entries.map { $0.key.scalarText } == ["greeting"])
    }

    @Test("stars that are not aliases keep their meaning")
    func starsInText() {
        let yaml = "a: 2*x\nb: \"*y\"\nc: '*z'\nd: |\n  *w\ne: [\"*v\", x*u]\n# *t\n"
        let (root, found) = YAMLLoader.load(yaml)
        #expect(found.isEmpty, "\(found)")
        #expect(root?.value(at: ["a"])?.scalarText == "2*x")
        #expect(root?.value(at: ["d"])?.scalarText == "*w\n")
    }

    @Test("an undefined alias is a YAML error at the alias")
    func undefinedAlias() {
        let (root, found) = YAMLLoader.load("a: *missing\n")
        #expect(root == nil)
        #expect(found.map(\.code) == [.yamlSyntax])
        #expect(found.first?.span == SourceSpan(line: 1, column: 4))
    }

    @Test("a file that cannot be read is one error of that file, and its folder is still checked")
    func unreadableFile() {
        let files = WorkflowFile.checkingNames([
            WorkflowFile.unreadable(path: "broken.yaml", reason: "not UTF-8 text"),
            WorkflowFile(path: "fine.yaml", source: "workflow: fine\nsteps: [{id: a, return: 1}]\n"),
        ])
        #expect(files.map(\.hasErrors) == [true, false])
        #expect(files.first?.diagnostics.map(\.code) == [.yamlSyntax])
    }
}

extension YAMLNode {
    /// The value under a path of mapping keys, for tests.
    func value(at path: [String]) -> YAMLNode? {
        var node = self
        for key in path {
            guard case .mapping(let entries) = node.content, let entry = entries.first(where: { $0.key.scalarText == key }) else { return nil }
            node = entry.value
        }
        return node
    }
}
