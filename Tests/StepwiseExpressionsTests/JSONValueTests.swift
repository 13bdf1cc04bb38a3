import Foundation
import Testing
import StepwiseExpressions

/// The error `Value(json:)` throws for `text`, or `nil` when it reads.
private func jsonError(_ text: String) -> JSONSyntaxError? {
    do {
        _ = try Value(json: text)
        return nil
    } catch {
        return error
    }
}


/// A malformed JSON text, what the error must say and where.
struct MalformedJSONSample: Sendable, CustomTestStringConvertible {
    let text: String
    let message: String
    let offset: Int
    var testDescription: String { text.count > 40 ? String(text.prefix(40)) + "…" : text }
}

@Suite("JSON values")
struct JSONValueTests {
    // MARK: Numbers

    @Test("integers keep their exact 64-bit value and type", arguments: [
        ("9223372036854775807", Value.int(.max)),
        ("-9223372036854775808", Value.int(.min)),
        ("0", Value.int(0)),
        ("-0", Value.int(0)),
        ("9223372036854775808", Value.uint(9_223_372_036_854_775_808)),
        ("18446744073709551615", Value.uint(.max)),
        ("18446744073709551616", Value.double(18_446_744_073_709_551_616.0)),
        ("-9223372036854775809", Value.double(-9_223_372_036_854_775_808.0)),
    ])
    func integers(text: String, expected: Value) throws {
        let value = try Value(json: text)
        #expect(identical(value, expected), "\(text) read as \(value) of type \(value.type.name)")
    }

    @Test("integers are written back digit for digit", arguments: [
        "9223372036854775807", "-9223372036854775808", "18446744073709551615", "[12345678901234567890,-1]",
    ])
    func integersWrittenExactly(text: String) throws {
        #expect(try Value(json: text).jsonText() == text)
    }

    @Test("numbers with a fraction or exponent are doubles even when whole", arguments: [
        ("1.0", 1.0), ("1e2", 100.0), ("2.5E-1", 0.25), ("-0.0", -0.0), ("1e-400", 0.0),
    ])
    func doubles(text: String, expected: Double) throws {
        let value = try Value(json: text)
        guard case .double(let d) = value else {
            Issue.record("\(text) read as \(value.type.name), expected double")
            return
        }
        #expect(d == expected)
        #expect(d.sign == expected.sign)
    }

    @Test("doubles keep a fraction or exponent when written, so they read back as doubles", arguments: [
        (1.0, "1.0"), (-0.0, "-0.0"), (2500.0, "2500.0"), (0.1, "0.1"), (1e300, "1e+300"), (-1.5e-7, "-1.5e-07"),
    ])
    func doublesWritten(value: Double, text: String) throws {
        #expect(Value.double(value).jsonText() == text)
        let reread = try Value(json: text)
        #expect(identical(reread, .double(value)))
    }

    @Test("a number too large for a double is an error, not infinity")
    func numberOutOfRange() throws {
        // Read as infinity, it would be written back as the string "Infinity": a silent type change.
        let error = try #require(jsonError(#"{"x": 1e400}"#))
        #expect(error.message.contains("out of range"))
        #expect(error.offset == 6)
        #expect(jsonError("-1e400")?.offset == 0)
    }

    @Test("non-finite doubles are written as strings, since JSON has no number for them")
    func nonFiniteDoubles() {
        #expect(Value.double(.nan).jsonText() == #""NaN""#)
        #expect(Value.double(.infinity).jsonText() == #""Infinity""#)
        #expect(Value.double(-.infinity).jsonText() == #""-Infinity""#)
    }

    // MARK: Documents

    @Test("compact documents round-trip byte for byte", arguments: [
        #"{"b":1,"a":[true,false,null,1.5,-2,"x"],"c":{"z":{},"y":[]}}"#,
        #"[[[[]]],{"":{"":""}},[1,{"k":[2.5,{"deep":[null]}]}]]"#,
        #"{"text":"quote \" backslash \\ newline \n tab \t bell \u0007 é 😀 /"}"#,
        #""plain string""#,
        "null",
    ])
    func compactRoundTrip(text: String) throws {
        #expect(try Value(json: text).jsonText() == text)
    }

    @Test("a nested document read, written and read again is the same value")
    func nestedRoundTrip() throws {
        let text = """
            {
              "run": {"id": "r-1", "attempt": 3, "started_at": "2024-05-01T10:00:00Z"},
              "steps": {
                "fetch": {
                  "status": 200,
                  "body": {"items": [{"id": 1, "price": 9.5}, {"id": 18446744073709551615, "price": 12.0}], "next": null}
                }
              }
            }
            """
        let value = try Value(json: text)
        for pretty in [false, true] {
            let reread = try Value(json: value.jsonText(pretty: pretty))
            #expect(identical(reread, value), "pretty: \(pretty)")
        }
        let items = try #require(value["steps"]?["fetch"]?["body"]?["items"])
        guard case .list(let list) = items, list.count == 2 else {
            Issue.record("items not read as a list of two: \(items)")
            return
        }
        #expect(identical(list[1]["price"] ?? .null, .double(12)))
        #expect(identical(list[1]["id"] ?? .null, .uint(.max)))
    }

    @Test("pretty output is indented by two spaces, with ': ' after keys")
    func prettyOutput() throws {
        let value = try Value(json: #"{"a":[1,{"b":null}],"c":{},"d":[]}"#)
        #expect(value.jsonText(pretty: true) == """
            {
              "a": [
                1,
                {
                  "b": null
                }
              ],
              "c": {},
              "d": []
            }
            """)
    }

    @Test("object members keep their order, as written")
    func memberOrder() throws {
        let value = try Value(json: #"{"zeta": 1, "alpha": 2, "mid": 3, "10": 4, "2": 5}"#)
        guard case .map(let map) = value else {
            Issue.record("not a map: \(value)")
            return
        }
        #expect(map.keys.map(\.text) == ["zeta", "alpha", "mid", "10", "2"])
        #expect(value.jsonText() == #"{"zeta":1,"alpha":2,"mid":3,"10":4,"2":5}"#)
    }

    @Test("keys are compared by code points: precomposed and decomposed 'é' are two keys")
    func keysByCodePoints() throws {
        let value = try Value(json: "{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        guard case .map(let map) = value else {
            Issue.record("not a map: \(value)")
            return
        }
        #expect(map.count == 2)
    }

    @Test("duplicate keys are rejected at the repeated key", arguments: [
        (#"{"a":1,"b":2,"a":3}"#, 13, "a"),
        (#"{"x": {"k": 1, "k": 2}}"#, 15, "k"),
        (#"[{}, {"same": [], "same": {}}]"#, 18, "same"),
    ])
    func duplicateKeys(text: String, offset: Int, key: String) throws {
        let error = try #require(jsonError(text))
        #expect(error.message == "duplicate key '\(key)' in object")
        #expect(error.offset == offset)
    }

    @Test("escapes decode to the characters they name")
    func escapes() throws {
        let value = try Value(json: #""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#)
        #expect(identical(value, .string("\"\\/\u{08}\u{0C}\n\r\tAé😀")))
    }

    @Test("control characters are written as escapes")
    func controlCharactersWritten() {
        #expect(Value.string("a\u{01}b\u{1F}\u{08}\u{0C}").jsonText() == #""a\u0001b\u001f\b\f""#)
    }

    @Test("text needing no escape is written as it is; one quote, backslash or control character anywhere is escaped")
    func escapesOnlyWhatNeedsIt() {
        #expect(Value.string("héllo 😀 \u{7F} plain").jsonText() == "\"héllo 😀 \u{7F} plain\"")
        #expect(Value.string("").jsonText() == #""""#)
        #expect(Value.string("😀\"").jsonText() == #""😀\"""#)
        #expect(Value.string("\\é").jsonText() == #""\\é""#)
        #expect(Value.string("é\n").jsonText() == #""é\n""#)
    }

    @Test("an escape inside a character (a quote with a combining mark, CR LF) keeps the text around it once", arguments: [
        "\"\u{301}x", "a\r\nb", "\\\u{308}\\", "\u{01}\u{301}",
    ])
    func escapesInsideCharacters(text: String) throws {
        let written = Value.string(text).jsonText()
        #expect(identical(try Value(json: written), .string(text)))
    }

    @Test("a long string with many escapes reads in linear time")
    func longEscapedString() throws {
        // 400,000 escapes: quadratic appending took many seconds here.
        let text = "\"" + String(repeating: #"ab\n"#, count: 400_000) + "\""
        let start = ContinuousClock.now
        let value = try Value(json: text)
        let elapsed = ContinuousClock.now - start
        guard case .string(let s) = value else {
            Issue.record("not a string")
            return
        }
        #expect(s.utf8.count == 1_200_000)
        #expect(elapsed < .seconds(3), "took \(elapsed)")
    }

    // MARK: Values JSON lacks

    @Test("bytes, timestamps, durations and types are written as strings")
    func nonJSONValuesAsStrings() throws {
        #expect(Value.bytes([0xFF, 0x00, 0x41]).jsonText() == #""/wBB""#)
        #expect(Value.bytes([]).jsonText() == #""""#)
        let timestamp = try TimestampValue(parsing: "2009-02-13T23:31:30.5+01:00")
        #expect(Value.timestamp(timestamp).jsonText() == #""2009-02-13T22:31:30.5Z""#)
        let duration = try DurationValue(parsing: "1h30m")
        #expect(Value.duration(duration).jsonText() == #""5400s""#)
        #expect(Value.type(.int).jsonText() == #""int""#)
        #expect(Value.list([.bytes([104, 105]), .optional(nil), .optional(.int(3))]).jsonText() == #"["aGk=",null,3]"#)
    }

    // MARK: Malformed input

    static let malformed: [MalformedJSONSample] = [
        MalformedJSONSample(text: "[1,2,]", message: "unexpected ']', expected a value", offset: 5),
        MalformedJSONSample(text: #"{"a":1,}"#, message: "expected a string key in object", offset: 7),
        MalformedJSONSample(text: "01", message: "leading zero in number", offset: 0),
        MalformedJSONSample(text: "[-012]", message: "leading zero in number", offset: 2),
        MalformedJSONSample(text: #""\x""#, message: #"invalid escape '\x' in string"#, offset: 2),
        MalformedJSONSample(text: #"{"x": "\ud800"}"#, message: #"unpaired surrogate \ud800 in string"#, offset: 7),
        MalformedJSONSample(text: #""ab\udc00""#, message: #"unpaired surrogate \udc00 in string"#, offset: 3),
        MalformedJSONSample(text: #""\ud800\u0041""#, message: "invalid low surrogate in string", offset: 7),
        MalformedJSONSample(text: #""\u12""#, message: #"expected four hex digits after \u"#, offset: 3),
        MalformedJSONSample(text: #""\u+041""#, message: #"expected four hex digits after \u"#, offset: 3),
        MalformedJSONSample(text: #"{"a": "abc"#, message: "unterminated string", offset: 10),
        MalformedJSONSample(text: "\"a\u{01}b\"", message: "unescaped control character in string", offset: 2),
        MalformedJSONSample(text: "[\"line\nbreak\"]", message: "unescaped control character in string", offset: 6),
        MalformedJSONSample(text: "", message: "expected a value, found end of input", offset: 0),
        MalformedJSONSample(text: "tru", message: "unexpected 't', expected a value", offset: 0),
        MalformedJSONSample(text: "\u{FEFF}{}", message: "unexpected U+FEFF (a byte order mark; send the JSON without it), expected a value", offset: 0),
        MalformedJSONSample(text: "[é]", message: "unexpected 'é' (U+00E9), expected a value", offset: 1),
        MalformedJSONSample(text: "[1]\u{7}", message: "unexpected U+0007 after the JSON value", offset: 3),
        MalformedJSONSample(text: "1 2", message: "unexpected '2' after the JSON value", offset: 2),
        MalformedJSONSample(text: #"{"a" 1}"#, message: "expected ':' after object key, found '1'", offset: 5),
        MalformedJSONSample(text: #"{"a":1 "b":2}"#, message: "expected ',' or '}' in object, found '\"'", offset: 7),
        MalformedJSONSample(text: "[1 2]", message: "expected ',' or ']' in array, found '2'", offset: 3),
        MalformedJSONSample(text: "[1", message: "expected ',' or ']' in array, found end of input", offset: 2),
        MalformedJSONSample(text: "1.", message: "expected a digit after '.' in number", offset: 2),
        MalformedJSONSample(text: "1e+", message: "expected a digit in exponent", offset: 3),
        MalformedJSONSample(text: "-", message: "expected a digit in number", offset: 1),
        MalformedJSONSample(text: ".5", message: "unexpected '.', expected a value", offset: 0),
        MalformedJSONSample(text: "{1: 2}", message: "expected a string key in object", offset: 1),
        MalformedJSONSample(
            text: String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
            message: "nesting deeper than 512 levels", offset: 512),
        MalformedJSONSample(
            text: String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513),
            message: "nesting deeper than 512 levels", offset: 512 * 5),
    ]

    @Test("a value a run keeps nests at most 500 levels, read or built; a record wrapping it reads back up to 512")
    func valueNesting() throws {
        func nested(_ levels: Int) -> String { String(repeating: #"{"w":"#, count: levels) + "1" + String(repeating: "}", count: levels) }
        let deepest = try Value(valueJSON: nested(Value.maximumNesting))
        #expect(!deepest.isNested(deeperThan: 500) && deepest.isNested(deeperThan: 499))
        #expect(throws: JSONSyntaxError.self) { try Value(valueJSON: nested(501)) }
        // A step's result around it, and a journal entry around that, still read back.
        let record: Value = ["out": ["body": deepest]]
        #expect(try Value(json: record.jsonText()) == record)
        #expect(throws: EvaluationError.tooDeepToKeep) {
            try Parser.parse("{'w': v}").evaluate(["v": deepest])
        }
        #expect(try Parser.parse("v").evaluate(["v": deepest]) == deepest, "a variable was bounded where it was made")
    }

    @Test("malformed input is a JSONSyntaxError with the offset of the problem", arguments: malformed)
    func malformedInput(_ sample: MalformedJSONSample) throws {
        let error = try #require(jsonError(sample.text), "accepted: \(sample.text)")
        #expect(error.message == sample.message)
        #expect(error.offset == sample.offset)
        #expect(error.description == "invalid JSON at offset \(sample.offset): \(sample.message)")
    }

    @Test("nesting up to 512 levels is accepted")
    func nestingAtTheLimit() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var value = try Value(json: text)
        var depth = 0
        while case .list(let elements) = value, let first = elements.first {
            depth += 1
            value = first
        }
        #expect(depth == 511)
    }

    @Test("offsets count UTF-8 bytes")
    func offsetsInBytes() throws {
        // 'é' is two bytes and '😀' four, so the 'q' of the bad escape is at byte 8 (character 4).
        let error = try #require(jsonError(#""é😀\q""#))
        #expect(error.offset == 8)
    }
}
