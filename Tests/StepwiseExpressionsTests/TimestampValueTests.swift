import Testing
@testable import StepwiseExpressions

private let nanosecondsPerSecond: Int128 = 1_000_000_000
private let firstSecond: Int64 = -62_135_596_800
private let lastSecond: Int64 = 253_402_300_799

private func timestamp(_ text: String) throws -> TimestampValue {
    try TimestampValue(parsing: text)
}

private func duration(_ text: String) throws -> DurationValue {
    try DurationValue(parsing: text)
}

@Suite("TimestampValue")
struct TimestampValueTests {
    // MARK: Parsing and formatting

    @Test("parses RFC 3339 and formats as RFC3339Nano in UTC", arguments: [
        ("2009-02-13T23:31:30Z", "2009-02-13T23:31:30Z"),
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("2009-02-13T23:31:30.123456789Z", "2009-02-13T23:31:30.123456789Z"),
        ("2009-02-13T23:31:30.100Z", "2009-02-13T23:31:30.1Z"),
        ("2009-02-13T23:31:30.000000000Z", "2009-02-13T23:31:30Z"),
        ("2009-02-13T23:31:30.5Z", "2009-02-13T23:31:30.5Z"),
        ("2023-02-04T00:31:20+01:00", "2023-02-03T23:31:20Z"),
        ("2023-02-03T15:31:20-08:00", "2023-02-03T23:31:20Z"),
        ("2023-02-03T23:31:20-00:00", "2023-02-03T23:31:20Z"),
        ("2023-02-03t23:31:20z", "2023-02-03T23:31:20Z"),
        ("2023-12-31T23:30:00-23:59", "2024-01-01T23:29:00Z"),
        ("1945-05-08T23:01:00Z", "1945-05-08T23:01:00Z"),
        ("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z"),
        ("2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"),
        ("0001-01-01T09:30:00+09:30", "0001-01-01T00:00:00Z"),
        ("0000-12-31T23:00:00-02:00", "0001-01-01T01:00:00Z"),
    ])
    func parsesAndFormats(text: String, formatted: String) throws {
        #expect(try timestamp(text).description == formatted)
    }

    @Test("formats as RFC 3339 local time with a UTC offset", arguments: [
        ("2026-03-29T01:00:00Z", 7_200, "2026-03-29T03:00:00+02:00"),
        ("2026-01-05T12:30:00Z", -12_600, "2026-01-05T09:00:00-03:30"),
        ("2026-01-05T09:00:00.25Z", 0, "2026-01-05T09:00:00.25+00:00"),
        ("2026-01-05T00:00:00Z", 45_900, "2026-01-05T12:45:00+12:45"),
        // Local mean time is not whole minutes, which RFC 3339 cannot write: UTC then.
        ("1880-01-01T00:00:00Z", 3_208, "1880-01-01T00:00:00Z"),
    ])
    func formatsWithOffset(text: String, offset: Int, formatted: String) throws {
        #expect(try timestamp(text).rfc3339(utcOffsetSeconds: offset) == formatted)
    }

    @Test("epoch seconds match known instants", arguments: [
        ("2009-02-13T23:31:30Z", Int64(1_234_567_890)),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("1945-05-08T23:01:00Z", -777_862_740),
        ("1582-10-15T00:00:00Z", -12_219_292_800),
        ("2000-02-29T12:00:00Z", 951_825_600),
        ("0001-01-01T00:00:00Z", firstSecond),
        ("9999-12-31T23:59:59Z", lastSecond),
    ])
    func epochSeconds(text: String, seconds: Int64) throws {
        let value = try timestamp(text)
        #expect(value.secondsSinceEpoch == seconds)
        #expect(try TimestampValue(secondsSinceEpoch: seconds) == value)
    }

    @Test("seconds since epoch round toward negative infinity")
    func flooredSeconds() throws {
        #expect(try timestamp("1969-12-31T23:59:59.5Z").secondsSinceEpoch == -1)
        #expect(try timestamp("1969-12-31T23:59:58.000000001Z").secondsSinceEpoch == -2)
        #expect(try timestamp("1970-01-01T00:00:00.999999999Z").secondsSinceEpoch == 0)
        #expect(try timestamp("0001-01-01T00:00:00.5Z").secondsSinceEpoch == firstSecond)
    }

    @Test("rejects malformed or impossible timestamps, naming the text", arguments: [
        "", "2009", "2009-02-13", "2009-02-13T23:31:30", "2009-02-13 23:31:30Z", "2009-2-13T23:31:30Z",
        "2009-02-30T00:00:00Z", "2009-02-13T24:00:00Z", "2009-02-13T23:60:00Z", "2009-02-13T23:31:60Z",
        "2009-13-01T00:00:00Z", "2009-00-01T00:00:00Z", "2009-01-00T00:00:00Z", "2009-04-31T00:00:00Z",
        "2009-02-13T23:31:30.Z", "2009-02-13T23:31:30.1234567890Z", "2009-02-13T23:31:30+0100",
        "2009-02-13T23:31:30+24:00", "2009-02-13T23:31:30+01:60", "2009-02-13T23:31:30+1:00",
        "2009-02-13T23:31:30 Z", "2009-02-13T23:31:30ZZ", "2009-02-13T23:31:30UTC", "2009-02-13T23:31:30x",
        "+009-02-13T23:31:30Z", "2009-02-13T23:31:30.12a Z", "２009-02-13T23:31:30Z", "2009-02-13T23:31:30,5Z",
        "1900-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01",
    ])
    func rejects(text: String) {
        let error = #expect(throws: EvaluationError.self) { try timestamp(text) }
        #expect(error?.message.hasPrefix("invalid timestamp '\(text)': ") == true)
    }

    @Test("error messages say what is wrong")
    func errorMessages() {
        #expect(throws: EvaluationError(
            "invalid timestamp '2009-02-30T00:00:00Z': day 30 does not exist in month 2 of 2009 (which has 28 days)"
        )) { try timestamp("2009-02-30T00:00:00Z") }
        #expect(throws: EvaluationError("invalid timestamp '2009-02-13T24:00:00Z': hour 24 is not in 0...23")) {
            try timestamp("2009-02-13T24:00:00Z")
        }
        #expect(throws: EvaluationError(
            "invalid timestamp '2009-02-13T23:31:30': missing time zone ('Z' or ±HH:MM)"
        )) { try timestamp("2009-02-13T23:31:30") }
        #expect(throws: EvaluationError("invalid timestamp '0001-01-01T00:00:00+01:00': timestamp out of range")) {
            try timestamp("0001-01-01T00:00:00+01:00")
        }
        #expect(throws: EvaluationError("invalid timestamp '0000-01-01T00:00:00Z': timestamp out of range")) {
            try timestamp("0000-01-01T00:00:00Z")
        }
    }

    @Test("leap years follow the Gregorian rules")
    func leapYears() {
        for valid in ["2000-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "1600-02-29T00:00:00Z", "0004-02-29T00:00:00Z"] {
            #expect(throws: Never.self) { try timestamp(valid) }
        }
        for invalid in ["1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "0001-02-29T00:00:00Z"] {
            #expect(throws: EvaluationError.self) { try timestamp(invalid) }
        }
    }

    @Test("format and parse round-trip across the whole range")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 42)
        let lowest = Int128(firstSecond) * nanosecondsPerSecond
        let highest = Int128(lastSecond) * nanosecondsPerSecond + 999_999_999
        let random = (0..<2_000).map { _ in Int128.random(in: lowest...highest, using: &generator) }
        for nanoseconds in [lowest, highest, 0, -1, 1] + random {
            let value = try TimestampValue(nanosecondsSinceEpoch: nanoseconds)
            #expect(try TimestampValue(parsing: value.description) == value)
        }
    }

    // MARK: Range

    @Test("range is inclusive at both ends")
    func rangeEdges() {
        #expect(throws: Never.self) { try TimestampValue(secondsSinceEpoch: firstSecond) }
        #expect(throws: Never.self) { try TimestampValue(secondsSinceEpoch: lastSecond) }
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(secondsSinceEpoch: -62_135_596_801) }
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(secondsSinceEpoch: 253_402_300_800) }
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(secondsSinceEpoch: .min) }
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(secondsSinceEpoch: .max) }
        let lowest = Int128(firstSecond) * nanosecondsPerSecond
        let highest = Int128(lastSecond) * nanosecondsPerSecond + 999_999_999
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(nanosecondsSinceEpoch: lowest - 1) }
        #expect(throws: EvaluationError("timestamp out of range")) { try TimestampValue(nanosecondsSinceEpoch: highest + 1) }
    }

    // MARK: Arithmetic

    @Test("adding and subtracting durations")
    func arithmetic() throws {
        #expect(try timestamp("0001-01-01T00:00:01.000000001Z").adding(duration("-999999999ns"))
            == timestamp("0001-01-01T00:00:00.000000002Z"))
        #expect(try timestamp("2009-02-13T23:31:30Z").adding(duration("1h30m30.5s")).description == "2009-02-14T01:02:00.5Z")
        #expect(try timestamp("2009-02-13T23:31:30Z").subtracting(duration("1234567890s")).description
            == "1970-01-01T00:00:00Z")
        #expect(try timestamp("9999-12-31T23:59:59Z").adding(duration("999999999ns")).description
            == "9999-12-31T23:59:59.999999999Z")
        #expect(throws: EvaluationError("timestamp out of range")) {
            try timestamp("9999-12-31T23:59:59Z").adding(duration("1s"))
        }
        #expect(throws: EvaluationError("timestamp out of range")) {
            try timestamp("0001-01-01T00:00:00Z").subtracting(duration("1ns"))
        }
        #expect(throws: EvaluationError("timestamp out of range")) {
            try timestamp("0001-01-01T00:00:00Z").adding(duration("-1ns"))
        }
    }

    @Test("difference of timestamps")
    func difference() throws {
        #expect(try timestamp("2009-02-13T23:31:30Z").difference(timestamp("1970-01-01T00:00:00Z")).description
            == "1234567890s")
        #expect(try timestamp("1970-01-01T00:00:00Z").difference(timestamp("1970-01-01T00:00:01.5Z")).description
            == "-1.5s")
        // The span must fit in int64 nanoseconds (±9,223,372,036.854775807 s), as in cel-go.
        #expect(try timestamp("2262-04-11T23:47:16.854775807Z").difference(timestamp("1970-01-01T00:00:00Z")).nanoseconds
            == Int128(Int64.max))
        #expect(try timestamp("1677-09-21T00:12:43.145224192Z").difference(timestamp("1970-01-01T00:00:00Z")).nanoseconds
            == Int128(Int64.min))
        #expect(throws: EvaluationError("duration out of range")) {
            try timestamp("2262-04-11T23:47:16.854775808Z").difference(timestamp("1970-01-01T00:00:00Z"))
        }
        #expect(throws: EvaluationError("duration out of range")) {
            try timestamp("9999-12-31T23:59:59Z").difference(timestamp("0001-01-01T00:00:00Z"))
        }
        #expect(throws: EvaluationError("duration out of range")) {
            try timestamp("0001-01-01T00:00:00Z").difference(timestamp("9999-12-31T23:59:59Z"))
        }
    }

    @Test("orders by instant")
    func ordering() throws {
        #expect(try timestamp("2023-02-04T00:31:20+01:00") == timestamp("2023-02-03T23:31:20Z"))
        #expect(try timestamp("1969-12-31T23:59:59Z") < timestamp("1970-01-01T00:00:00Z"))
        #expect(try timestamp("2009-02-13T23:31:30.000000001Z") > timestamp("2009-02-13T23:31:30Z"))
    }

    // MARK: Calendar fields

    @Test("UTC fields of the CEL conformance instant")
    func utcFields() throws {
        let fields = try timestamp("2009-02-13T23:31:30Z").fields(in: nil)
        #expect(fields.date == 13)
        #expect(fields.dayOfMonth == 12)
        #expect(fields.dayOfWeek == 5)
        #expect(fields.dayOfYear == 43)
        #expect(fields.fullYear == 2009)
        #expect(fields.hours == 23)
        #expect(fields.minutes == 31)
        #expect(fields.month == 1)
        #expect(fields.seconds == 30)
        #expect(fields.milliseconds == 0)
        #expect(try timestamp("2009-02-13T23:31:20.123456789Z").fields(in: nil).milliseconds == 123)
        #expect(try timestamp("2009-02-13T23:31:30Z").fields(in: "UTC") == fields)
        #expect(try timestamp("2009-02-13T23:31:30Z").fields(in: "+00:00") == fields)
    }

    @Test("CEL conformance fields with time zones", arguments: [
        ("2009-02-13T23:31:30Z", "Australia/Sydney", \CalendarFields.date, Int64(14)),
        ("2009-02-13T23:31:30Z", "US/Central", \.dayOfMonth, 12),
        ("2009-02-13T23:31:30Z", "+11:00", \.dayOfMonth, 13),
        ("2009-02-13T02:00:00Z", "-02:30", \.dayOfMonth, 11),
        ("2009-02-13T02:00:00Z", "America/St_Johns", \.dayOfMonth, 11),
        ("2009-02-13T23:31:30Z", "UTC", \.dayOfWeek, 5),
        ("2009-02-13T23:31:30Z", "US/Central", \.dayOfYear, 43),
        ("2009-02-13T23:31:30Z", "-09:30", \.fullYear, 2009),
        ("2009-02-13T23:31:30Z", "02:00", \.hours, 1),
        ("2009-02-13T23:31:30Z", "Asia/Kathmandu", \.minutes, 16),
        ("2009-02-13T23:31:30Z", "UTC", \.month, 1),
        ("2009-02-13T23:31:30Z", "-00:00", \.seconds, 30),
    ] as [(String, String, any KeyPath<CalendarFields, Int64> & Sendable, Int64)])
    func zonedFields(
        text: String, zone: String, field: any KeyPath<CalendarFields, Int64> & Sendable, expected: Int64
    ) throws {
        #expect(try timestamp(text).fields(in: zone)[keyPath: field] == expected)
    }

    @Test("int(timestamp) is the Unix time")
    func unixTime() throws {
        #expect(try timestamp("2009-02-13T23:31:30Z").secondsSinceEpoch == 1_234_567_890)
    }

    @Test("daylight saving time changes the local hour")
    func daylightSavingTime() throws {
        // US DST began 2021-03-14 at 02:00 EST (07:00Z): the clock jumps from 01:59:59 to 03:00:00.
        let before = try timestamp("2021-03-14T06:59:59Z").fields(in: "America/New_York")
        let after = try timestamp("2021-03-14T07:00:00Z").fields(in: "America/New_York")
        #expect(before.hours == 1)
        #expect(before.minutes == 59)
        #expect(after.hours == 3)
        #expect(after.minutes == 0)
        #expect(try timestamp("2021-03-14T06:59:59Z").utcOffsetSeconds(in: "America/New_York") == -18_000)
        #expect(try timestamp("2021-03-14T07:00:00Z").utcOffsetSeconds(in: "America/New_York") == -14_400)
        // Southern hemisphere: Sydney is on daylight time (UTC+11) in February, standard (UTC+10) in July.
        #expect(try timestamp("2009-02-13T23:31:30Z").utcOffsetSeconds(in: "Australia/Sydney") == 39_600)
        #expect(try timestamp("2009-07-13T23:31:30Z").utcOffsetSeconds(in: "Australia/Sydney") == 36_000)
    }

    @Test("fields before 1970 and at the ends of the range")
    func historicFields() throws {
        let victory = try timestamp("1945-05-08T23:01:00Z").fields(in: nil)
        #expect([victory.fullYear, victory.month, victory.date, victory.dayOfWeek, victory.dayOfYear] == [1945, 4, 8, 2, 127])
        let first = try timestamp("0001-01-01T00:00:00Z").fields(in: nil)
        #expect([first.fullYear, first.month, first.date, first.dayOfWeek, first.dayOfYear] == [1, 0, 1, 1, 0])
        // Local time may fall outside 0001–9999 even though the instant does not.
        let yearZero = try timestamp("0001-01-01T00:00:00Z").fields(in: "-09:30")
        #expect([yearZero.fullYear, yearZero.month, yearZero.date, yearZero.hours, yearZero.minutes] == [0, 11, 31, 14, 30])
        let last = try timestamp("9999-12-31T23:59:59.999999999Z").fields(in: "+01:00")
        #expect([last.fullYear, last.month, last.date, last.hours, last.milliseconds] == [10_000, 0, 1, 0, 999])
        let leapDay = try timestamp("2000-12-31T12:00:00Z").fields(in: nil)
        #expect(leapDay.dayOfYear == 365)
    }

    @Test("time zone strings", arguments: [
        ("UTC", 0), ("+11:00", 39_600), ("-02:30", -9_000), ("02:00", 7_200), ("-00:00", 0), ("-09:30", -34_200),
        ("+5:45", 20_700), ("Asia/Kathmandu", 20_700), ("America/St_Johns", -12_600), ("US/Central", -21_600),
        ("Europe/London", 0), ("Asia/Kolkata", 19_800),
    ])
    func zoneOffsets(zone: String, seconds: Int) throws {
        #expect(try timestamp("2009-02-13T23:31:30Z").utcOffsetSeconds(in: zone) == seconds)
    }

    @Test("unknown or malformed zones are errors")
    func unknownZones() throws {
        let value = try timestamp("2009-02-13T23:31:30Z")
        #expect(throws: EvaluationError("unknown time zone 'Mars/Base'")) { try value.fields(in: "Mars/Base") }
        #expect(throws: EvaluationError("unknown time zone ''")) { try value.fields(in: "") }
        for malformed in ["+24:00", "+01:60", "1:0", "+:30", "01:00:00", "++01:00", "+01:0a", "UTC+01:00"] {
            let error = #expect(throws: EvaluationError.self) { try value.fields(in: malformed) }
            #expect(error?.message.hasPrefix("invalid time zone offset '\(malformed)'") == true)
        }
    }

    // MARK: Construction from fields

    @Test("constructs from wall-clock fields and an offset")
    func fieldInitializer() throws {
        #expect(try TimestampValue(year: 2009, month: 2, day: 13, hour: 23, minute: 31, second: 30)
            == timestamp("2009-02-13T23:31:30Z"))
        #expect(try TimestampValue(year: 2023, month: 2, day: 4, hour: 0, minute: 31, second: 20,
                                   nanosecond: 5, utcOffsetSeconds: 3_600)
            == timestamp("2023-02-03T23:31:20.000000005Z"))
        #expect(try TimestampValue(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59,
                                   nanosecond: 999_999_999).description == "9999-12-31T23:59:59.999999999Z")
        // Local years 0 and 10000 are fine when the offset brings the instant back into range.
        #expect(try TimestampValue(year: 10_000, month: 1, day: 1, hour: 0, minute: 0, second: 0, utcOffsetSeconds: 3_600)
            == timestamp("9999-12-31T23:00:00Z"))
        #expect(try TimestampValue(year: 0, month: 12, day: 31, hour: 23, minute: 0, second: 0, utcOffsetSeconds: -3_600)
            == timestamp("0001-01-01T00:00:00Z"))
    }

    /// Wall-clock fields plus the error the initializer must report for them.
    struct InvalidFields: Sendable, CustomTestStringConvertible {
        var year = 2009, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanosecond = 0, offset = 0
        var message: String
        var testDescription: String { message }
    }

    @Test("field initializer validates every field", arguments: [
        InvalidFields(year: -1, message: "timestamp out of range"),
        InvalidFields(year: 10_001, message: "timestamp out of range"),
        InvalidFields(year: Int.max, message: "timestamp out of range"),
        InvalidFields(year: Int.min, message: "timestamp out of range"),
        InvalidFields(year: 0, month: 12, day: 31, hour: 23, message: "timestamp out of range"),
        InvalidFields(year: 10_000, message: "timestamp out of range"),
        InvalidFields(month: 13, message: "month 13 is not in 1...12"),
        InvalidFields(month: 0, message: "month 0 is not in 1...12"),
        InvalidFields(year: 1900, month: 2, day: 29, message: "day 29 does not exist in month 2 of 1900 (which has 28 days)"),
        InvalidFields(month: 6, day: 31, message: "day 31 does not exist in month 6 of 2009 (which has 30 days)"),
        InvalidFields(day: 0, message: "day 0 does not exist in month 1 of 2009 (which has 31 days)"),
        InvalidFields(hour: 24, message: "hour 24 is not in 0...23"),
        InvalidFields(minute: -1, message: "minute -1 is not in 0...59"),
        InvalidFields(second: 60, message: "second 60 is not in 0...59"),
        InvalidFields(nanosecond: 1_000_000_000, message: "nanosecond 1000000000 is not in 0...999999999"),
        InvalidFields(offset: 86_400, message: "UTC offset in seconds 86400 is not in -86399...86399"),
        InvalidFields(year: 1, offset: 1, message: "timestamp out of range"),
        InvalidFields(year: 9_999, month: 12, day: 31, hour: 23, minute: 59, second: 59, offset: -1,
                      message: "timestamp out of range"),
    ])
    func fieldValidation(fields: InvalidFields) {
        #expect(throws: EvaluationError(fields.message)) {
            try TimestampValue(year: fields.year, month: fields.month, day: fields.day, hour: fields.hour,
                               minute: fields.minute, second: fields.second, nanosecond: fields.nanosecond,
                               utcOffsetSeconds: fields.offset)
        }
    }

    // MARK: Civil date arithmetic

    @Test("civil dates advance one day at a time from year -1 to 10001")
    func civilDateContinuity() {
        let start = CivilDate(year: -1, month: 1, day: 1).daysSinceEpoch
        let end = CivilDate(year: 10_001, month: 12, day: 31).daysSinceEpoch
        var expected = CivilDate(year: -1, month: 1, day: 1)
        var mismatches = 0
        for days in start...end {
            let date = CivilDate(daysSinceEpoch: days)
            if date != expected || date.daysSinceEpoch != days {
                mismatches += 1
            }
            expected = Self.successor(of: expected)
        }
        #expect(mismatches == 0)
        #expect(CivilDate(year: 1970, month: 1, day: 1).daysSinceEpoch == 0)
        #expect(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11_017)
    }

    /// The next calendar day, computed naively as an independent reference.
    private static func successor(of date: CivilDate) -> CivilDate {
        if date.day < CivilDate.daysInMonth(date.month, year: date.year) {
            return CivilDate(year: date.year, month: date.month, day: date.day + 1)
        }
        if date.month < 12 {
            return CivilDate(year: date.year, month: date.month + 1, day: 1)
        }
        return CivilDate(year: date.year + 1, month: 1, day: 1)
    }
}
