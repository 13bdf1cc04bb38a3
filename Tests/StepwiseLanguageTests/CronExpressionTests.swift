import StepwiseExpressions
import StepwiseLanguage
import Testing

/// A parsed timestamp; the tests only use literals that are valid RFC 3339.
private func time(_ text: String) throws -> TimestampValue {
    try TimestampValue(parsing: text)
}

/// The next `count` fire times after `start`, each searched from the previous one, as RFC 3339 UTC.
private func fires(
    _ cron: String,
    after start: String,
    in zone: String? = nil,
    count: Int = 1
) throws -> [String] {
    let expression = try CronExpression(parsing: cron)
    var instant = try time(start)
    var result: [String] = []
    for _ in 0..<count {
        guard let next = try expression.nextFireTime(after: instant, in: zone) else {
            result.append("none")
            break
        }
        result.append(next.description)
        instant = next
    }
    return result
}

// MARK: - Parsing

@Suite("Cron parsing")
struct CronParsingTests {
    @Test("valid expressions and their normalized text", arguments: [
        ("*/15 * * * *", "*/15 * * * *"),
        ("  0   9 * *  MON-FRI ", "0 9 * * mon-fri"),
        ("0\t0\t1\tJan\t*", "0 0 1 jan *"),
        ("0,15,30,45 8-18 1,15 * *", "0,15,30,45 8-18 1,15 * *"),
        ("10-50/10 */2 5/7 jan-jun/2 sun,7", "10-50/10 */2 5/7 jan-jun/2 sun,7"),
        ("0 0 * * sat-sun", "0 0 * * sat-sun"),
        ("0 0 29 2 *", "0 0 29 2 *"),
        ("@yearly", "@yearly"),
        ("@ANNUALLY", "@yearly"),
        ("@monthly", "@monthly"),
        ("@weekly", "@weekly"),
        ("@daily", "@daily"),
        ("  @midnight ", "@daily"),
        ("@hourly", "@hourly"),
    ])
    func validForms(input: String, normalized: String) throws {
        let expression = try CronExpression(parsing: input)
        #expect(expression.description == normalized)
        // The normalized text must parse back to the same schedule.
        #expect(try CronExpression(parsing: normalized) == expression)
    }

    @Test("every class of error, with its message and character offset", arguments: [
        // Out of range, per field.
        ("61 * * * *", "minute value 61 is out of range 0-59", 0),
        ("0 24 * * *", "hour value 24 is out of range 0-23", 2),
        ("0 0 0 * *", "day-of-month value 0 is out of range 1-31", 4),
        ("0 0 1 13 *", "month value 13 is out of range 1-12", 6),
        ("0 0 * * 8", "day-of-week value 8 is out of range 0-7", 8),
        ("0 0 * * 1,99999999999", "day-of-week value 99999999999 is out of range 0-7", 10),
        ("0 0-60 * * *", "hour value 60 is out of range 0-23", 4),
        // Reversed ranges.
        ("5-1 * * * *", "minute range 5-1 is reversed (its start is after its end)", 0),
        ("0 0 * * fri-mon", "day-of-week range fri-mon is reversed (its start is after its end)", 8),
        ("0 0 1,20-10/2 * *", "day-of-month range 20-10 is reversed (its start is after its end)", 6),
        // Steps.
        ("*/0 * * * *", "minute step 0 is out of range 1-59", 2),
        ("0 0-23/24 * * *", "hour step 24 is out of range 1-23", 7),
        ("*/ * * * *", "missing step after '/' in minute field", 2),
        ("*/mon * * * *", "minute step 'mon' is not a number", 2),
        // Empty list items.
        ("1,,2 * * * *", "empty item in minute list", 2),
        (",5 * * * *", "empty item in minute list", 0),
        ("0 0 * * 1,", "empty item in day-of-week list", 10),
        // Names.
        ("0 0 1 foo *", "unknown month name 'foo'", 6),
        ("0 0 * * Monday", "unknown day-of-week name 'Monday'", 8),
        ("abc * * * *", "minute value 'abc' is not a number", 0),
        ("0 0 jan * *", "day-of-month value 'jan' is not a number", 4),
        // Garbage characters (Quartz and other dialects).
        ("0 0 ? * *", "unexpected character '?' in day-of-month field", 4),
        ("0 0 5L * *", "unexpected character 'L' in day-of-month field", 5),
        ("0 0 * * 1#2", "unexpected character '#' in day-of-week field", 9),
        ("1-5-7 * * * *", "unexpected character '-' in minute field", 3),
        ("0 0 1- * *", "day-of-month range is missing its end", 6),
        ("0 0 * * ★", "unexpected character '★' in day-of-week field", 8),
        // Field count.
        ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6", 10),
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4", 7),
        ("", "expected 5 fields (minute hour day-of-month month day-of-week), found 0", 0),
        ("   ", "expected 5 fields (minute hour day-of-month month day-of-week), found 0", 0),
        // Days that never occur in the chosen months.
        ("0 0 31 2 *", "day 31 never occurs in February", 4),
        ("0 0 30 feb *", "day 30 never occurs in February", 4),
        ("0 0 30,31 2 *", "days 30 and 31 never occur in February", 4),
        ("0 0 31 4,6 *", "day 31 never occurs in April or June", 4),
        ("0 0 31 apr,jun,sep,nov *", "day 31 never occurs in April, June, September or November", 4),
        ("0 0 31 2 */2", "day 31 never occurs in February", 4),
        // Macros.
        ("@reboot", "unknown macro '@reboot' (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", 0),
        ("@daily 5", "unexpected '5' after @daily, which stands for a whole schedule", 7),
        ("0 @daily * * *", "unexpected character '@' in hour field", 2),
    ])
    func errors(input: String, message: String, offset: Int) {
        #expect(throws: CronSyntaxError(message, offset: offset)) {
            try CronExpression(parsing: input)
        }
    }

    @Test("offsets count characters, not UTF-8 bytes")
    func characterOffsets() {
        // U+2003 EM SPACE is whitespace of 3 UTF-8 bytes; the bad value is at character 8.
        #expect(throws: CronSyntaxError("day-of-week value 99 is out of range 0-7", offset: 8)) {
            try CronExpression(parsing: "0\u{2003}0 * * 99")
        }
        // A digit with a combining accent is one character and not a digit.
        #expect(throws: CronSyntaxError("unexpected character '5\u{301}' in minute field", offset: 0)) {
            try CronExpression(parsing: "5\u{301} * * * *")
        }
    }

    @Test("a day that exists in some chosen month, or a weekday alternative, is accepted")
    func possibleDays() throws {
        _ = try CronExpression(parsing: "0 0 31 2,3 *")   // March 31 exists
        _ = try CronExpression(parsing: "0 0 30 1-2 *")   // January 30 exists
        _ = try CronExpression(parsing: "0 0 29 2 *")     // leap years
        _ = try CronExpression(parsing: "0 0 31 2 mon")   // OR rule: Mondays in February
    }

    @Test("the description names the column")
    func errorDescription() {
        #expect(CronSyntaxError("minute value 61 is out of range 0-59", offset: 0).description
            == "minute value 61 is out of range 0-59 (at column 1)")
    }

    @Test("equal schedules spelled differently stay distinct values but fire alike")
    func spellings() throws {
        let sunday0 = try CronExpression(parsing: "0 0 * * 0")
        let sunday7 = try CronExpression(parsing: "0 0 * * 7")
        let sundayName = try CronExpression(parsing: "0 0 * * SUN")
        let weekly = try CronExpression(parsing: "@weekly")
        let start = try time("2025-06-04T12:00:00Z")
        for expression in [sunday7, sundayName, weekly] {
            #expect(try expression.nextFireTime(after: start, in: nil) == sunday0.nextFireTime(after: start, in: nil))
        }
        #expect(try sunday0.nextFireTime(after: start, in: nil)?.description == "2025-06-08T00:00:00Z")
        #expect(sunday0 != sunday7)
    }
}

// MARK: - Next fire time

@Suite("Cron next fire time")
struct CronNextFireTimeTests {
    @Test("every 15 minutes, strictly after the given instant")
    func everyQuarterHour() throws {
        #expect(try fires("*/15 * * * *", after: "2025-01-01T00:07:30Z", count: 3)
            == ["2025-01-01T00:15:00Z", "2025-01-01T00:30:00Z", "2025-01-01T00:45:00Z"])
        #expect(try fires("*/15 * * * *", after: "2025-01-01T00:15:00Z") == ["2025-01-01T00:30:00Z"])
        #expect(try fires("*/15 * * * *", after: "2025-01-01T00:14:59.999999999Z") == ["2025-01-01T00:15:00Z"])
        #expect(try fires("*/15 * * * *", after: "2025-01-01T23:50:00Z") == ["2025-01-02T00:00:00Z"])
    }

    @Test("open-ended steps run from their start to the end of the field")
    func openEndedSteps() throws {
        #expect(try fires("5/15 * * * *", after: "2025-01-01T00:00:00Z", count: 5) == [
            "2025-01-01T00:05:00Z", "2025-01-01T00:20:00Z", "2025-01-01T00:35:00Z", "2025-01-01T00:50:00Z",
            "2025-01-01T01:05:00Z",
        ])
        #expect(try fires("0 0 25/10 * *", after: "2025-01-01T00:00:00Z", count: 2)
            == ["2025-01-25T00:00:00Z", "2025-02-25T00:00:00Z"])
        // Day of week runs through Saturday: 7 is only Sunday's second spelling, so 1/2 is
        // Monday, Wednesday and Friday (2025-06-02 is a Monday), not Sunday as well.
        #expect(try fires("0 0 * * 1/2", after: "2025-06-01T00:00:00Z", count: 4) == [
            "2025-06-02T00:00:00Z", "2025-06-04T00:00:00Z", "2025-06-06T00:00:00Z", "2025-06-09T00:00:00Z",
        ])
    }

    @Test("weekdays at nine skip the weekend")
    func weekdays() throws {
        // 2025-06-06 is a Friday.
        #expect(try fires("0 9 * * 1-5", after: "2025-06-06T10:00:00Z", count: 2)
            == ["2025-06-09T09:00:00Z", "2025-06-10T09:00:00Z"])
        #expect(try fires("0 9 * * mon-fri", after: "2025-06-06T08:59:00Z") == ["2025-06-06T09:00:00Z"])
    }

    @Test("monthly and yearly schedules cross the year end")
    func yearEnd() throws {
        #expect(try fires("0 0 1 * *", after: "2025-12-15T00:00:00Z", count: 2)
            == ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"])
        #expect(try fires("@yearly", after: "2025-01-01T00:00:00Z") == ["2026-01-01T00:00:00Z"])
        #expect(try fires("59 23 31 12 *", after: "2025-12-31T23:59:00Z") == ["2026-12-31T23:59:00Z"])
    }

    @Test("February 29 from a non-leap year, and nothing within 5 years across 2100")
    func leapDay() throws {
        #expect(try fires("0 0 29 2 *", after: "2025-03-01T00:00:00Z", count: 2)
            == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        // 2100 is not a leap year: after 2096 the next February 29 is in 2104, past 5 years.
        #expect(try fires("0 0 29 2 *", after: "2097-01-01T00:00:00Z") == ["none"])
        // Day 31 in 30- and 31-day months: only the long months fire.
        #expect(try fires("0 0 31 * *", after: "2025-04-01T00:00:00Z", count: 2)
            == ["2025-05-31T00:00:00Z", "2025-07-31T00:00:00Z"])
    }

    @Test("searches skip by field, so rare and impossible-in-range schedules are fast")
    func searchIsFast() throws {
        let leapDay = try CronExpression(parsing: "0 0 29 2 *")
        // AND mode (day of week starts with '*'): February 29 on an even weekday; from 2097
        // nothing until past the 5-year limit, so every search walks all 5 years.
        let rare = try CronExpression(parsing: "59 23 29 2 */2")
        let start = try time("2097-03-01T00:00:00Z")
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for _ in 0..<50 {
                _ = try leapDay.nextFireTime(after: start, in: "America/New_York")
                _ = try rare.nextFireTime(after: start, in: "Europe/Berlin")
            }
        }
        // A minute-by-minute search would take minutes; a field-by-field one milliseconds.
        #expect(elapsed < .seconds(5))
        #expect(try rare.nextFireTime(after: start, in: "Europe/Berlin") == nil)
    }

    @Test("Vixie day rule: either day field when both are restricted, both otherwise")
    func vixieDays() throws {
        // Fridays or the 13th: 2025-06-06 (Fri), 06-13 (Fri, 13th), ..., 07-13 (Sunday).
        #expect(try fires("0 0 13 * 5", after: "2025-06-01T00:00:00Z", count: 7) == [
            "2025-06-06T00:00:00Z", "2025-06-13T00:00:00Z", "2025-06-20T00:00:00Z", "2025-06-27T00:00:00Z",
            "2025-07-04T00:00:00Z", "2025-07-11T00:00:00Z", "2025-07-13T00:00:00Z",
        ])
        // A day field starting with '*' counts as unrestricted (Vixie's DOM_STAR): odd days
        // that are also Mondays.
        #expect(try fires("0 0 */2 * mon", after: "2025-06-01T00:00:00Z", count: 3)
            == ["2025-06-09T00:00:00Z", "2025-06-23T00:00:00Z", "2025-07-07T00:00:00Z"])
        // Day of week '*': only the day of month decides.
        #expect(try fires("0 0 13 * *", after: "2025-06-01T00:00:00Z") == ["2025-06-13T00:00:00Z"])
        // Day of month '*': only the day of week decides; 7 is Sunday.
        #expect(try fires("0 0 * * 7", after: "2025-06-01T00:00:00Z") == ["2025-06-08T00:00:00Z"])
        // February 31 is dead, but Mondays in February are not.
        #expect(try fires("0 0 31 2 mon", after: "2025-06-01T00:00:00Z") == ["2026-02-02T00:00:00Z"])
        // sat-sun is Saturday and Sunday.
        #expect(try fires("0 0 * * sat-sun", after: "2025-06-01T00:00:00Z", count: 2)
            == ["2025-06-07T00:00:00Z", "2025-06-08T00:00:00Z"])
    }

    @Test("wall-clock time in zones with whole, half and quarter hour offsets")
    func zones() throws {
        #expect(try fires("0 9 * * *", after: "2025-01-10T00:00:00Z", in: "Europe/Berlin") == ["2025-01-10T08:00:00Z"])
        #expect(try fires("0 9 * * *", after: "2025-07-10T00:00:00Z", in: "Europe/Berlin") == ["2025-07-10T07:00:00Z"])
        #expect(try fires("0 9 * * *", after: "2025-01-10T00:00:00Z", in: "America/New_York") == ["2025-01-10T14:00:00Z"])
        #expect(try fires("0 9 * * *", after: "2025-07-10T00:00:00Z", in: "America/New_York") == ["2025-07-10T13:00:00Z"])
        // Kathmandu is UTC+05:45 all year.
        #expect(try fires("0 0 * * *", after: "2025-01-01T00:00:00Z", in: "Asia/Kathmandu") == ["2025-01-01T18:15:00Z"])
        // Lord Howe: UTC+11 in (southern) summer, UTC+10:30 in winter.
        #expect(try fires("0 12 * * *", after: "2025-01-10T00:00:00Z", in: "Australia/Lord_Howe") == ["2025-01-10T01:00:00Z"])
        #expect(try fires("0 12 * * *", after: "2025-07-10T00:00:00Z", in: "Australia/Lord_Howe") == ["2025-07-10T01:30:00Z"])
        // The day is the local day: Monday 00:30 in Berlin is still Sunday in UTC.
        #expect(try fires("30 0 * * mon", after: "2025-06-01T00:00:00Z", in: "Europe/Berlin") == ["2025-06-01T22:30:00Z"])
        // nil and "UTC" are the same.
        #expect(try fires("0 9 * * *", after: "2025-01-10T00:00:00Z", in: "UTC") == ["2025-01-10T09:00:00Z"])
    }

    @Test("spring forward: a skipped wall time fires once, at the end of the gap")
    func springForwardGap() throws {
        // New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00Z). 02:30 does not exist.
        #expect(try fires("30 2 * * *", after: "2025-03-08T12:00:00-05:00", in: "America/New_York", count: 2)
            == ["2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"])
        // Every quarter hour: 02:00-02:45 all fall in the gap and fire once, together with 03:00.
        #expect(try fires("*/15 * * * *", after: "2025-03-09T01:50:00-05:00", in: "America/New_York", count: 3)
            == ["2025-03-09T07:00:00Z", "2025-03-09T07:15:00Z", "2025-03-09T07:30:00Z"])
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
        #expect(try fires("30 2 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/Berlin", count: 2)
            == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        // Lord Howe, 2025-10-05: 02:00 (+10:30) jumps to 02:30 (+11:00) at 15:30Z the day before.
        #expect(try fires("15 2 * * *", after: "2025-10-04T00:00:00Z", in: "Australia/Lord_Howe", count: 2)
            == ["2025-10-04T15:30:00Z", "2025-10-05T15:15:00Z"])
        // Starting inside what would be the gap's wall times, from just before the jump.
        #expect(try fires("* * * * *", after: "2025-03-09T06:59:30Z", in: "America/New_York", count: 2)
            == ["2025-03-09T07:00:00Z", "2025-03-09T07:01:00Z"])
    }

    @Test("fall back: a repeated wall time fires only at its first occurrence")
    func fallBackOverlap() throws {
        // New York, 2025-11-02: 02:00 EDT falls back to 01:00 EST (06:00Z); 01:30 occurs at
        // 05:30Z and 06:30Z. Only the first fires; the next run is the following day.
        #expect(try fires("30 1 * * *", after: "2025-11-01T12:00:00-04:00", in: "America/New_York", count: 2)
            == ["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"])
        // From inside the repeated hour, wall times already passed once do not fire again.
        #expect(try fires("*/20 * * * *", after: "2025-11-02T06:10:00Z", in: "America/New_York")
            == ["2025-11-02T07:00:00Z"])
        // An hourly job pauses for the repeated hour: 01:00 EDT, then 02:00 EST two hours later.
        #expect(try fires("0 * * * *", after: "2025-11-02T04:30:00Z", in: "America/New_York", count: 2)
            == ["2025-11-02T05:00:00Z", "2025-11-02T07:00:00Z"])
        // Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 occurs at
        // 00:30Z (CEST) and 01:30Z (CET).
        #expect(try fires("30 2 * * *", after: "2026-10-24T12:00:00Z", in: "Europe/Berlin", count: 2)
            == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        // Lord Howe, 2025-04-06: 02:00 (+11:00) falls back to 01:30 (+10:30) at 15:00Z the day
        // before; 01:45 occurs at 14:45Z and 15:15Z.
        #expect(try fires("45 1 * * *", after: "2025-04-05T00:00:00Z", in: "Australia/Lord_Howe", count: 2)
            == ["2025-04-05T14:45:00Z", "2025-04-06T15:15:00Z"])
    }

    @Test("across real transitions no wall time fires twice, and only a gap's end is off the schedule",
          arguments: [
              ("America/New_York", "2025-03-08T00:00:00Z", 1), ("America/New_York", "2025-11-01T00:00:00Z", 0),
              ("Europe/Berlin", "2026-03-28T00:00:00Z", 1), ("Europe/Berlin", "2026-10-24T00:00:00Z", 0),
              ("Australia/Lord_Howe", "2025-04-04T00:00:00Z", 0), ("Australia/Lord_Howe", "2025-10-03T00:00:00Z", 1),
          ])
    func transitionInvariants(zone: String, start: String, gapEnds expectedGapEnds: Int) throws {
        // Minutes 5, 15, ..., 55: a gap's end (03:00 or Lord Howe's 02:30) is not among them,
        // so a fire there can only be the one standing in for the skipped wall times.
        let expression = try CronExpression(parsing: "5-55/10 * * * *")
        var instant = try time(start)
        var previousWall: (Int64, Int64, Int64, Int64)?
        var gapEnds = 0
        // Three days of fire times straddling the transition.
        for _ in 0..<(3 * 24 * 6) {
            let next = try #require(try expression.nextFireTime(after: instant, in: zone))
            #expect(next > instant)
            let fields = try next.fields(in: zone)
            let wall = (fields.dayOfYear, fields.hours, fields.minutes, fields.seconds)
            if let previousWall {
                #expect(wall > previousWall, "wall time \(wall) repeats or goes back at \(next)")
            }
            if fields.minutes % 10 != 5 {
                gapEnds += 1
            }
            previousWall = wall
            instant = next
        }
        #expect(gapEnds == expectedGapEnds)
    }

    @Test("time zone names")
    func timeZoneNames() throws {
        #expect(CronExpression.isValidTimeZone("UTC"))
        #expect(CronExpression.isValidTimeZone("Europe/Berlin"))
        #expect(CronExpression.isValidTimeZone("Australia/Lord_Howe"))
        #expect(CronExpression.isValidTimeZone("Etc/GMT+5"))
        #expect(!CronExpression.isValidTimeZone(""))
        #expect(!CronExpression.isValidTimeZone("Mars/Olympus_Mons"))
        #expect(!CronExpression.isValidTimeZone("+05:00"))
        #expect(!CronExpression.isValidTimeZone("GMT+5"))
        #expect(!CronExpression.isValidTimeZone("UTC-0300"))
        let daily = try CronExpression(parsing: "@daily")
        let start = try time("2025-01-01T00:00:00Z")
        #expect(throws: CronSyntaxError("unknown time zone 'Mars/Olympus_Mons'", offset: 0)) {
            try daily.nextFireTime(after: start, in: "Mars/Olympus_Mons")
        }
        #expect(throws: CronSyntaxError("unknown time zone '+05:00'", offset: 0)) {
            try daily.nextFireTime(after: start, in: "+05:00")
        }
    }

    @Test("the ends of the timestamp range end the search instead of trapping")
    func rangeEnds() throws {
        #expect(try fires("* * * * *", after: "9999-12-31T23:59:00Z") == ["none"])
        // Kiritimati is UTC+14: local midnight of 10000-01-01 is still representable, the next is not.
        #expect(try fires("0 0 * * *", after: "9999-12-31T00:00:00Z", in: "Pacific/Kiritimati", count: 2)
            == ["9999-12-31T10:00:00Z", "none"])
        let first = try #require(try CronExpression(parsing: "0 0 * * *")
            .nextFireTime(after: time("0001-01-01T00:00:00Z"), in: "America/New_York"))
        #expect(first > (try time("0001-01-01T00:00:00Z")))
    }
}

// MARK: - Random schedules against an independent matcher

@Suite("Cron random schedules")
struct CronRandomScheduleTests {
    /// One random field: its text and, computed here independently of the parser, its values.
    private static func randomField(
        _ bounds: ClosedRange<Int>,
        names: [String] = [],
        nameBase: Int = 0,
        starWeight: Double,
        random: inout SeededGenerator
    ) -> (text: String, values: Set<Int>) {
        if Double.random(in: 0..<1, using: &random) < starWeight {
            return ("*", Set(bounds))
        }
        func spelled(_ value: Int) -> String {
            let index = value - nameBase
            if names.indices.contains(index), Bool.random(using: &random) {
                return Bool.random(using: &random) ? names[index].uppercased() : names[index]
            }
            return String(value)
        }
        var items: [String] = []
        var values = Set<Int>()
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let a = Int.random(in: bounds, using: &random)
            let b = Int.random(in: bounds, using: &random)
            let (low, high) = (min(a, b), max(a, b))
            let step = Int.random(in: 1...max(1, bounds.upperBound / 2), using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                items.append(spelled(a))
                values.insert(a)
            case 1:
                items.append("\(spelled(low))-\(spelled(high))")
                values.formUnion(low...high)
            case 2:
                items.append("\(spelled(low))-\(spelled(high))/\(step)")
                values.formUnion(stride(from: low, through: high, by: step))
            default:
                items.append("*/\(step)")
                values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
            }
        }
        return (items.joined(separator: ","), values)
    }

    @Test("each next fire time matches and no matching minute is skipped (UTC)")
    func againstBruteForce() throws {
        var random = SeededGenerator(seed: 0x5EED_C40)
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        var checked = 0
        while checked < 150 {
            let minute = Self.randomField(0...59, starWeight: 0.2, random: &random)
            let hour = Self.randomField(0...23, starWeight: 0.4, random: &random)
            let dayOfMonth = Self.randomField(1...31, starWeight: 0.6, random: &random)
            let month = Self.randomField(1...12, names: months, nameBase: 1, starWeight: 0.8, random: &random)
            // 0...6 keeps the reference simple; 7 as Sunday is covered by the table tests.
            let dayOfWeek = Self.randomField(0...6, names: days, starWeight: 0.6, random: &random)
            let text = [minute.text, hour.text, dayOfMonth.text, month.text, dayOfWeek.text].joined(separator: " ")
            // Skip the few random combinations the parser rightly rejects (e.g. day 31 in February).
            guard let expression = try? CronExpression(parsing: text) else { continue }
            checked += 1
            let eitherDay = !dayOfMonth.text.hasPrefix("*") && !dayOfWeek.text.hasPrefix("*")
            func matches(_ instant: TimestampValue) throws -> Bool {
                let f = try instant.fields(in: nil)
                let dayOfMonthMatches = dayOfMonth.values.contains(Int(f.date))
                let dayOfWeekMatches = dayOfWeek.values.contains(Int(f.dayOfWeek))
                let dayMatches = eitherDay ? dayOfMonthMatches || dayOfWeekMatches : dayOfMonthMatches && dayOfWeekMatches
                return dayMatches && minute.values.contains(Int(f.minutes)) && hour.values.contains(Int(f.hours))
                    && month.values.contains(Int(f.month) + 1)
            }
            let startSeconds = Int64.random(in: 946_684_800...2_208_988_800, using: &random)  // 2000-2040
            let start = try TimestampValue(secondsSinceEpoch: startSeconds)
            let next = try expression.nextFireTime(after: start, in: nil)
            // Brute force: every minute after `start` for two days (or up to the answer).
            var minuteSeconds = (startSeconds / 60 + 1) * 60
            let horizon = min(next?.secondsSinceEpoch ?? Int64.max, startSeconds + 2 * 86_400)
            while minuteSeconds < horizon {
                #expect(try !matches(TimestampValue(secondsSinceEpoch: minuteSeconds)),
                        "'\(text)' after \(start) skipped \(minuteSeconds)")
                minuteSeconds += 60
            }
            if let next {
                #expect(next > start)
                #expect(try matches(next), "'\(text)' after \(start) gave non-matching \(next)")
            }
        }
    }
}
