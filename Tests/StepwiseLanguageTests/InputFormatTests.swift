import StepwiseExpressions
import StepwiseLanguage
import Testing

/// The `format`s an input schema checks, as the docs list them.
@Suite("Input schema formats")
struct InputFormatTests {
    private func problems(_ text: String, format: String) throws -> [String] {
        let file = WorkflowFile(path: "f.yaml", source: """
            workflow: f
            input: {type: object, properties: {v: {type: string, format: \(format)}}}
            steps:
              - id: s
                set: {v: "${{ input.v }}"}
            """)
        let schema = try #require(file.workflow?.input)
        return InputValidator.problems(of: ["v": .string(text)], against: schema)
    }

    @Test("each checked format accepts what it names and refuses what it does not, naming the field and the format", arguments: [
        ("date-time", ["2026-12-06T18:00:00Z", "2026-12-06T18:00:00.5+01:00"], ["yesterday", "2026-12-06", "2026-13-01T00:00:00Z"]),
        ("date", ["2026-02-28", "2024-02-29"], ["2026-02-30", "2026-2-3", "2026-02-28T00:00:00Z"]),
        ("email", ["ada@example.com", "a.b+c@mail.example.org"], ["not-an-email", "a@", "@b.c", "a b@c.d", "a@b..c"]),
        ("uri", ["https://example.com/x?y=1", "mailto:ada@example.com", "urn:isbn:0451450523"], ["no uri", "/relative/path", "1http://x"]),
        ("uuid", ["123e4567-e89b-12d3-a456-426614174000"], ["xyz", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"]),
        ("ipv4", ["127.0.0.1", "255.255.255.255"], ["256.0.0.1", "1.2.3", "01.2.3.4", "1.2.3.4.5"]),
    ])
    func checkedFormats(format: String, valid: [String], invalid: [String]) throws {
        for text in valid { #expect(try problems(text, format: format).isEmpty, "\(format): \(text)") }
        for text in invalid { #expect(try problems(text, format: format) == ["/v must be a valid \(format)"], "\(format): \(text)") }
    }

    @Test("a format the validator does not know is an annotation, as JSON Schema allows")
    func unknownFormat() throws {
        #expect(try problems("anything", format: "color").isEmpty)
    }

    @Test("enum and const take objects and nested lists, compared as JSON values (key order aside)")
    func structuredConstants() throws {
        let file = WorkflowFile(path: "f.yaml", source: """
            workflow: f
            input:
              type: object
              properties:
                mode: {enum: [{kind: fast}, {kind: slow, retries: 2}]}
                point: {const: {x: 0, y: 0}}
                pair: {enum: [[1, 2], [3, 4]]}
            steps:
              - id: s
                set: {v: "${{ input.mode }}"}
            """)
        #expect(!file.hasErrors, "\(file.diagnostics.map(\.description))")
        let schema = try #require(file.workflow?.input)
        let good: Value = ["mode": ["retries": 2, "kind": "slow"], "point": ["y": 0, "x": 0], "pair": [3, 4]]
        #expect(InputValidator.problems(of: good, against: schema).isEmpty)
        let bad: Value = ["mode": ["kind": "medium"], "point": ["x": 1, "y": 0], "pair": [2, 1]]
        #expect(InputValidator.problems(of: bad, against: schema).count == 3)
    }
}
