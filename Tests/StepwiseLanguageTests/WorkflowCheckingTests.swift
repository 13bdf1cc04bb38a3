import Foundation
import Testing
import StepwiseExpressions
import StepwiseLanguage

/// Checks of the loader, decoder and validator on small inline workflows.
@Suite("Workflow checking")
struct WorkflowCheckingTests {
    private func check(_ yaml: String) -> WorkflowFile {
        WorkflowFile(path: "test.yaml", source: yaml)
    }

    private func codes(_ yaml: String) -> [String] {
        check(yaml).diagnostics.map { "\($0.code.rawValue) \($0.span)" }
    }

    @Test("an alias bomb is refused with a diagnostic, not expanded")
    func aliasBomb() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += "workflow: bomb\nsteps: [{id: a, return: 1}]\n"
        #expect(check(yaml).diagnostics.map(\.code) == [.documentTooLarge])
    }

    @Test("ten thousand nested brackets are refused before parsing")
    func deepNesting() {
        let yaml = "workflow: deep\nsteps: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"
        let diagnostics = check(yaml).diagnostics
        #expect(diagnostics.map(\.code) == [.documentTooDeep])
        #expect(diagnostics.first?.span.line == 2)
    }

    @Test("a header name HTTP cannot carry is reported where it is written; a query name may be anything")
    func headerNames() {
        let diagnostics = check("""
            workflow: names
            steps:
              - id: call
                http:
                  url: https://example.com/x
                  headers: {X Foo: a, "X:Bar": b, X-Fine_1: c}
                  query: {"a b": 1}
            """).diagnostics
        #expect(diagnostics.map { "\($0.code.rawValue) \($0.span) \($0.message)" } == [
            "SW013 6:17 header name 'X Foo' cannot be sent", "SW013 6:27 header name 'X:Bar' cannot be sent",
        ])
        #expect(diagnostics.first?.hint?.contains("letters, digits") == true)
    }

    @Test("an unquoted template inside a flow mapping gets a hint pointing at it")
    func unquotedTemplateInFlowMapping() throws {
        let yaml = """
            workflow: w
            steps:
              - id: send
                http: {method: POST, url: https://example.com, body: {to: ${{ input.email }}}}
            """
        let diagnostic = try #require(check(yaml).diagnostics.first)
        #expect(diagnostic.code == .unquotedTemplate)
        #expect(diagnostic.span == SourceSpan(line: 4, column: 63))
        #expect(diagnostic.hint?.contains("quotes") == true)
    }

    @Test("an expression error points at the exact column inside the YAML scalar")
    func expressionColumn() throws {
        let yaml = """
            workflow: w
            steps:
              - id: fetch
                http:
                  url: "https://example.com/${{ input.id + }}"
            """
        let diagnostic = try #require(check(yaml).diagnostics.first)
        #expect(diagnostic.code == .expressionSyntax)
        #expect(diagnostic.span == SourceSpan(line: 5, column: 48))
    }

    @Test("expression errors point at their column inside a block scalar with a more indented line, and in files with CRLF or CR line breaks, with the line shown")
    func expressionColumnsAcrossLayouts() throws {
        let block = """
            workflow: w
            steps:
              - id: a
                set:
                  msg: |
                    Hello,
                      dear ${{ input.name + }}
                    bye
            """
        #expect(codes(block) == ["SW040 7:33"], "the end of the expression, as in a one-line scalar")
        let flow = "workflow: w\nsteps:\n  - id: b\n    set:\n      m: \"${{ inptu.v }}\"\n"
        #expect(codes(flow) == ["SW041 5:15"])
        for lineBreak in ["\r\n", "\r"] {
            let file = check(flow.replacingOccurrences(of: "\n", with: lineBreak))
            #expect(file.diagnostics.map { "\($0.code.rawValue) \($0.span)" } == ["SW041 5:15"], "\(lineBreak.debugDescription)")
            let report = DiagnosticFormat.text.render([file])
            #expect(report.contains("5 |       m: \"${{ inptu.v }}\"\n"), "\(report)")
            #expect(report.contains("  |               ^\n"), "\(report)")
        }
    }

    @Test("yes and no stay text, with a warning where that looks unintended")
    func yaml11Booleans() throws {
        let yaml = """
            workflow: w
            steps:
              - id: flags
                set: {enabled: yes, mode: "no", on: true}
            """
        let file = check(yaml)
        #expect(file.diagnostics.map(\.code) == [.yamlBooleanWord])
        guard case .set(let values)? = file.workflow?.steps.first?.kind, case .literal(let value) = values[0].value.kind else {
            Issue.record("expected a set step")
            return
        }
        #expect(value == .string("yes"))
        #expect(values.map(\.name) == ["enabled", "mode", "on"])
    }

    @Test("a duplicate key is reported at its second occurrence")
    func duplicateKey() {
        let yaml = "workflow: w\nsteps:\n  - id: a\n    return: 1\nworkflow: x\n"
        #expect(codes(yaml) == ["SW002 5:1"])
    }

    @Test("every duplicate key of a document is reported, in block and flow mappings, quoted or not, three times written")
    func everyDuplicateKey() {
        let yaml = """
            workflow: w
            steps:
              - id: a
                http: {url: "https://a.example", "url": "https://b.example", method: GET, method: POST}
              - id: b
                sleep: 1s
                id: c
                'id': d
            workflow: x
            """
        #expect(codes(yaml) == ["SW002 4:38", "SW002 4:79", "SW002 7:5", "SW002 8:5", "SW002 9:1"])
        #expect(codes(yaml.replacingOccurrences(of: "\n", with: "\r\n")) == codes(yaml), "CRLF line ends")
        // A space before the colon, and the same key in other mappings that are not duplicates.
        let spaced = "workflow: w\nsteps:\n  - id: a\n    set:\n      x : 1\n      x : 2\n  - id: b\n    set:\n      x: 3\n"
        #expect(codes(spaced) == ["SW002 6:7"])
        #expect(codes("workflow: w\nsteps:\n  - id: a\n    set: {\"y\": 1, y: 2}\n") == ["SW002 4:19"], "after a quoted first key")
        let many = "workflow: w\nsteps: []\n" + (0..<30).map { "k: \($0)\n" }.joined()
        #expect(codes(many).count == YAMLLoader.maximumDuplicateKeysReported)
    }

    @Test("structural paths name nested steps as the journal will")
    func structuralPaths() throws {
        let yaml = """
            workflow: w
            steps:
              - id: fanout
                for_each:
                  items: ${{ [1, 2] }}
                  steps:
                    - id: send
                      return: ${{ item }}
              - id: images
                parallel:
                  thumb:
                    - id: resize
                      sleep: 1s
              - id: prompt
                switch:
                  - when: ${{ true }}
                    steps: [{id: tips, set: {a: 1}}]
              - id: charge
                sleep: 1s
                catch:
                  - id: refund
                    set: {b: 2}
            on_failure:
              - id: alert
                set: {c: 3}
            """
        let file = check(yaml)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        let paths = try #require(file.workflow).allSteps.map(\.path.description)
        #expect(paths == ["fanout", "fanout[].send", "images", "images.thumb.resize", "prompt", "prompt.tips", "charge", "charge.catch.refund", "on_failure.alert"])
        #expect(try #require(file.workflow).allSteps[1].path.instantiated(indices: [3]) == "fanout[3].send")
    }

    @Test("references must point at steps that certainly ran before")
    func stepReferences() {
        let yaml = """
            workflow: w
            steps:
              - id: early
                set: {x: "${{ steps.late.x }}"}
              - id: both
                parallel:
                  a: [{id: left, set: {v: 1}}]
                  b: [{id: right, set: {v: "${{ steps.left.v }}"}}]
              - id: choose
                switch:
                  - when: ${{ steps.both.a != null }}
                    steps: [{id: inner, set: {v: 1}}]
              - id: unguarded
                set: {v: "${{ steps.inner.v }}", w: "${{ has(steps.inner) }}", ok: "${{ steps.choose.v + steps.left.v }}"}
              - id: late
                set: {x: "${{ steps.nope }}"}
            """
        #expect(codes(yaml) == ["SW050 4:25", "SW052 8:43", "SW053 14:25", "SW051 16:25"])
    }

    @Test("a step whose if tests has(steps.x) may use steps.x; the steps after it may not")
    func stepGuardedByItsIf() {
        let yaml = """
            workflow: w
            steps:
              - id: charge
                set: {id: ch_1}
            on_failure:
              - id: refund
                if: ${{ has(steps.charge) && input.refunds }}
                set: {charge: "${{ steps.charge.id }}"}
              - id: after
                set: {charge: "${{ steps.charge.id }}"}
              - id: either
                if: ${{ has(steps.charge) || input.refunds }}
                set: {charge: "${{ steps.charge.id }}"}
            """
        #expect(codes(yaml) == ["SW053 10:30", "SW053 13:30"])
    }

    @Test("item, error and secrets are only usable where they exist")
    func scopes() {
        let yaml = """
            workflow: w
            secrets: [TOKEN]
            steps:
              - id: a
                set: {x: "${{ item }}", y: "${{ error.message }}", z: "${{ secrets.TOKEN }}", e: "${{ env.TOKEN }}"}
              - id: b
                http:
                  url: https://example.com
                  headers: {Authorization: {secret: TOKNE}}
                  body: {token: {secret: TOKEN}}
            """
        #expect(codes(yaml) == ["SW055 5:19", "SW055 5:37", "SW062 5:64", "SW062 5:95", "SW060 9:32", "SW061 10:21"])
    }

    @Test("cancel takes the reason as text or a template, or null or nothing for no reason")
    func cancelReasons() throws {
        let yaml = """
            workflow: w
            steps:
              - id: plain
                if: ${{ input.a }}
                cancel: withdrawn
              - id: computed
                if: ${{ input.b }}
                cancel: "order ${{ input.id }} withdrawn"
              - id: null_reason
                if: ${{ input.c }}
                cancel: null
              - id: empty
                cancel:
            """
        let file = check(yaml)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        let steps = try #require(file.workflow).steps
        let reasons = steps.map { step -> String in
            guard case .cancel(let reason) = step.kind else { return "not a cancel step" }
            switch reason?.kind {
            case nil: return "none"
            case .literal(.string(let text))?: return "text \(text)"
            case .template(_, let text, _)?: return "template \(text)"
            default: return "unexpected"
            }
        }
        #expect(reasons == ["text withdrawn", "template order ${{ input.id }} withdrawn", "none", "none"])
        #expect(steps.allSatisfy { $0.kind.keyword == "cancel" && $0.kind.endsRun && !$0.isDurable })
    }

    @Test("a cancel reason's expressions are checked, and nothing runs after an unconditional cancel")
    func cancelChecks() {
        let yaml = """
            workflow: w
            steps:
              - id: stop
                if: ${{ input.stop }}
                cancel: "asked by ${{ steps.later.user }}"
              - id: stop_now
                cancel: ${{ item }}
              - id: later
                set: {user: x}
            """
        #expect(codes(yaml) == ["SW050 5:33", "SW055 7:17", "SW071 8:9"])
        #expect(codes("workflow: w\nsteps:\n  - id: a\n    cancel: \"${{ input. }}\"\n").map { $0.prefix(5) } == ["SW040"])
    }

    @Test("the steps after a fail its own catch handles run (no SW071); a fail without a catch, or a return, still ends the run")
    func failWithCatchGoesOn() {
        let caught = """
            workflow: w
            steps:
              - id: a
                fail: {message: x}
                catch:
                  - id: c
                    set: {handled: true}
              - id: b
                set: {v: "${{ steps.a }}"}
            """
        #expect(codes(caught) == [])
        let returned = """
            workflow: w
            steps:
              - id: a
                return: 1
                catch:
                  - id: c
                    set: {handled: true}
              - id: b
                set: {v: 2}
            """
        #expect(codes(returned).contains("SW071 8:9"), "\(codes(returned))")
    }

    @Test("a cancel reason that is neither text nor null is a type error", arguments: ["true", "3", "[a, b]", "{message: x}"])
    func cancelWrongType(value: String) throws {
        let file = check("workflow: w\nsteps:\n  - id: a\n    cancel: \(value)\n")
        #expect(file.diagnostics.map { "\($0.code.rawValue) \($0.span)" } == ["SW012 4:13"])
        #expect(try #require(file.diagnostics.first).message.hasPrefix("cancel must be the reason as text"))
    }

    @Test("a workflow name defined by two files of a folder is an error in the second")
    func duplicateWorkflowNames() {
        let yaml = "workflow: same\nsteps: [{id: a, return: 1}]\n"
        let files = WorkflowFile.checkingNames([
            WorkflowFile(path: "a.yaml", source: yaml), WorkflowFile(path: "b.yaml", source: yaml),
            WorkflowFile(path: "c.yaml", source: "workflow: other\nsteps: [{id: a, return: 1}]\n"),
        ])
        #expect(files.map { $0.diagnostics.map { "\($0.code.rawValue) \($0.span)" } } == [[], ["SW024 1:11"], []])
        #expect(files[1].diagnostics.first?.message == "workflow 'same' is also defined in a.yaml")
    }

    @Test("a wait limited by its step's timeout is not a wait without a timeout (SW070)")
    func stepTimeoutLimitsAWait() throws {
        let limited = check("workflow: w\nsteps:\n  - id: a\n    timeout: 1h\n    wait_for_event: {event: x}\n")
        #expect(limited.diagnostics.isEmpty, "\(limited.diagnostics)")
        let unlimited = check("workflow: w\nsteps:\n  - id: a\n    wait_for_event: {event: x}\n")
        #expect(unlimited.diagnostics.map(\.code) == [.waitWithoutTimeout])
    }

    @Test("an invoke of a workflow not in the folder suggests the closest valid name, never a name that is itself invalid")
    func invokeSuggestionsAreValidNames() throws {
        let caller = check("workflow: caller\nsteps:\n  - id: go\n    invoke: {workflow: order-fullfilment}\n")
        let broken = caller.checkingInvokes(against: ["caller", "Order Fulfillment"]).diagnostics
        #expect(broken.map(\.code) == [.unknownWorkflow] && broken.first?.hint == nil, "\(broken)")
        let valid = caller.checkingInvokes(against: ["caller", "order-fulfillment"]).diagnostics
        #expect(valid.first?.hint == "did you mean 'order-fulfillment'?")
    }

    @Test("every output format carries the same findings")
    func formats() throws {
        let file = check("workflow: w\nsteps:\n  - id: a\n    wait_for_event: {event: x}\n    bogus: 1\n")
        #expect(file.diagnostics.map(\.code) == [.waitWithoutTimeout, .unknownKey])
        let text = DiagnosticFormat.text.render([file])
        #expect(text.contains("test.yaml:5:5: error[SW010]: unknown key 'bogus' in step 'a'"))
        #expect(text.hasSuffix("1 file checked: 1 error, 1 warning\n"))
        let github = DiagnosticFormat.github.render([file])
        #expect(github.contains("::error file=test.yaml,line=5,col=5,title=SW010 unknown-key::unknown key 'bogus' in step 'a'"))
        let json = try Value(json: DiagnosticFormat.json.render([file]))
        #expect(json["errors"] == .int(1))
        #expect(json["warnings"] == .int(1))
        let sarif = try Value(json: DiagnosticFormat.sarif.render([file]))
        #expect(sarif["version"] == .string("2.1.0"))
        guard case .list(let runs)? = sarif["runs"], case .list(let results)? = runs.first?["results"] else {
            Issue.record("SARIF has no results")
            return
        }
        #expect(results.count == 2)
    }
}
