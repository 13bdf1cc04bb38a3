import Testing
@testable import StepwiseExpressions

private let second: Int128 = 1_000_000_000
private let maximum: Int128 = 315_576_000_000 * second

@Suite("DurationValue")
struct DurationValueTests {
    // MARK: Parsing

    @Test("parses Go duration syntax exactly", arguments: [
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("1s", second),
        ("-1.5s", -1_500_000_000),
        ("1h30m", 5_400 * second),
        ("100ms", 100_000_000),
        ("1000000s", 1_000_000 * second),
        ("-200000000000s", -200_000_000_000 * second),
        (".5s", 500_000_000),
        ("1.s", second),
        ("1.5h", 5_400 * second),
        ("0.000000001s", 1),
        ("1ns", 1),
        ("1us", 1_000),
        ("1\u{00B5}s", 1_000),
        ("1\u{03BC}s", 1_000),
        ("2h45m30.5s", 9_930 * second + 500_000_000),
        ("1s1s", 2 * second),
        ("0.1ns", 0),
        ("1.0000000009s", second),
        ("-0.0000000019s", -1),
        // 0.333…(22 threes) × 60e9 ns = 19,999,999,999.99… ns: exact arithmetic truncates, Double would round.
        ("0.3333333333333333333333m", 19_999_999_999),
        ("10.000000000000000000000000000000000000000000001s", 10 * second),
        ("000000000000000000000000000000000000000000001s", second),
        ("315576000000s", maximum),
        ("-315576000000s", -maximum),
        ("5259600000m", maximum),
        ("9223372036854775808ns", 9_223_372_036_854_775_808),
    ] as [(String, Int128)])
    func parses(text: String, nanoseconds: Int128) throws {
        #expect(try DurationValue(parsing: text).nanoseconds == nanoseconds)
    }

    @Test("parses calendar units only when allowed", arguments: [
        ("3d", 3 * 86_400 * second),
        ("1w2d", 9 * 86_400 * second),
        ("1.5d", 129_600 * second),
        ("-1w", -7 * 86_400 * second),
        ("1d12h", 129_600 * second),
    ] as [(String, Int128)])
    func parsesCalendarUnits(text: String, nanoseconds: Int128) throws {
        #expect(try DurationValue(parsing: text, allowingCalendarUnits: true).nanoseconds == nanoseconds)
        let error = #expect(throws: EvaluationError.self) { try DurationValue(parsing: text) }
        #expect(error?.message.contains("unknown unit") == true)
    }

    @Test("reports the problem and the text")
    func errorMessages() {
        #expect(throws: EvaluationError("invalid duration '1x': unknown unit 'x'")) {
            try DurationValue(parsing: "1x")
        }
        #expect(throws: EvaluationError("missing unit in duration '10'")) {
            try DurationValue(parsing: "10")
        }
        #expect(throws: EvaluationError("invalid duration '1e3s': unknown unit 'e'")) {
            try DurationValue(parsing: "1e3s")
        }
        #expect(throws: EvaluationError("invalid duration '.s': expected a number at '.s'")) {
            try DurationValue(parsing: ".s")
        }
    }

    @Test("rejects malformed text", arguments: [
        "", "-", "+", "s", "1", "1s2", "1..5s", "- 1s", "1 s", " 1s", "1s ", "1S", "1sec",
        "--1s", "+-1s", "1h-30m", "1.5.5s", "0x10s", "１s", "1d", "1w",
    ])
    func rejectsMalformed(text: String) {
        let error = #expect(throws: EvaluationError.self) { try DurationValue(parsing: text) }
        #expect(error?.message.contains("'\(text)'") == true)
    }

    @Test("rejects values beyond ±315576000000s without crashing", arguments: [
        "315576000000.000000001s", "-315576000001s", "5259600001m", "87660001h", "315576000000s1ns",
        "99999999999999999999999999999999999999999999999999h",
        "18446744073709551616s", "100000000000000000000d",
    ])
    func rejectsOutOfRange(text: String) {
        let error = #expect(throws: EvaluationError.self) {
            try DurationValue(parsing: text, allowingCalendarUnits: true)
        }
        #expect(error?.message.contains("out of range") == true)
    }

    // MARK: Formatting

    @Test("formats as seconds with the shortest exact fraction", arguments: [
        (1_000_000 * second, "1000000s"),
        (1_500_000_000, "1.5s"),
        (1, "0.000000001s"),
        (-3 * second, "-3s"),
        (7_200 * second, "7200s"),
        (0, "0s"),
        (-1, "-0.000000001s"),
        (1_100_000_000, "1.1s"),
        (-123_456_789_012, "-123.456789012s"),
        (maximum, "315576000000s"),
        (-maximum, "-315576000000s"),
    ] as [(Int128, String)])
    func formats(nanoseconds: Int128, text: String) throws {
        #expect(try DurationValue(nanoseconds: nanoseconds).description == text)
    }

    @Test("format and parse round-trip")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 7)
        let edges: [Int128] = [0, 1, -1, maximum, -maximum, maximum - 1, 999_999_999, -1_000_000_001]
        let random = (0..<2_000).map { _ in Int128.random(in: -maximum...maximum, using: &generator) }
        for nanoseconds in edges + random {
            let duration = try DurationValue(nanoseconds: nanoseconds)
            #expect(try DurationValue(parsing: duration.description) == duration)
        }
    }

    // MARK: Range and arithmetic

    @Test("range is inclusive at both ends")
    func rangeEdges() {
        #expect(throws: Never.self) { try DurationValue(nanoseconds: maximum) }
        #expect(throws: Never.self) { try DurationValue(nanoseconds: -maximum) }
        #expect(throws: EvaluationError("duration out of range")) { try DurationValue(nanoseconds: maximum + 1) }
        #expect(throws: EvaluationError("duration out of range")) { try DurationValue(nanoseconds: -maximum - 1) }
        #expect(throws: EvaluationError("duration out of range")) { try DurationValue(nanoseconds: .max) }
    }

    @Test("arithmetic is exact and range-checked")
    func arithmetic() throws {
        let oneAndHalf = try DurationValue(parsing: "1.5s")
        let twoHours = try DurationValue(parsing: "2h")
        #expect(try oneAndHalf.adding(twoHours).description == "7201.5s")
        #expect(try oneAndHalf.subtracting(twoHours).description == "-7198.5s")
        #expect(try oneAndHalf.negated().description == "-1.5s")
        #expect(try DurationValue.zero.negated() == .zero)

        let top = try DurationValue(nanoseconds: maximum)
        let bottom = try DurationValue(nanoseconds: -maximum)
        let tick = try DurationValue(nanoseconds: 1)
        #expect(try top.negated() == bottom)
        #expect(try bottom.negated() == top)
        #expect(throws: EvaluationError("duration out of range")) { try top.adding(tick) }
        #expect(throws: EvaluationError("duration out of range")) { try bottom.subtracting(tick) }
        #expect(throws: EvaluationError("duration out of range")) { try top.subtracting(bottom) }
        #expect(try top.subtracting(top) == .zero)
    }

    @Test("accessors truncate toward zero", arguments: [
        ("10000s", 2, 166, 10_000, 10_000_000),
        ("3730s", 1, 62, 3_730, 3_730_000),
        ("-3730s", -1, -62, -3_730, -3_730_000),
        ("1.5009s", 0, 0, 1, 1_500),
        ("-1.5009s", 0, 0, -1, -1_500),
        ("315576000000s", 87_660_000, 5_259_600_000, 315_576_000_000, 315_576_000_000_000),
    ] as [(String, Int64, Int64, Int64, Int64)])
    func accessors(text: String, hours: Int64, minutes: Int64, seconds: Int64, milliseconds: Int64) throws {
        let duration = try DurationValue(parsing: text)
        #expect(duration.totalHours == hours)
        #expect(duration.totalMinutes == minutes)
        #expect(duration.totalSeconds == seconds)
        #expect(duration.totalMilliseconds == milliseconds)
    }

    @Test("orders by length")
    func ordering() throws {
        let texts = ["1h", "-1s", "0s", "1ns", "-1h", "59m"]
        let sorted = try texts.map { text throws(EvaluationError) in try DurationValue(parsing: text) }.sorted()
        #expect(sorted.map(\.description) == ["-3600s", "-1s", "0s", "0.000000001s", "3540s", "3600s"])
        #expect(try DurationValue(parsing: "60m") == DurationValue(parsing: "1h"))
    }
}
