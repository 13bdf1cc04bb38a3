import Foundation
import Testing
import StepwiseTesting

/// `stepwise cron`: fire times as RFC 3339 with the zone's offset, its errors and exit statuses,
/// and the JSON-lines batch mode scripts use.
@Suite("stepwise cron", .timeLimit(.minutes(3)))
struct CronCommandTests {
    @Test("prints the next fire times with the zone's offset, across a spring-forward gap")
    func fireTimes() throws {
        let result = try stepwise(
            "cron", "30 2 * * *", "--timezone", "America/New_York", "--after", "2026-03-07T00:00:00Z", "--count", "3")
        #expect(result.status == 0, "\(result.standardError)")
        // 02:30 does not exist on March 8: it fires once, at 03:00, the end of the gap.
        #expect(result.standardOutput == """
            2026-03-07T02:30:00-05:00
            2026-03-08T03:00:00-04:00
            2026-03-09T02:30:00-04:00

            """)
        #expect(result.standardError == "")
    }

    @Test("prints five times after now by default, in UTC")
    func defaults() throws {
        let result = try stepwise("cron", "@hourly")
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines.allSatisfy { $0.hasSuffix(":00:00+00:00") }, "\(lines)")
        #expect(lines == lines.sorted())
    }

    @Test("a schedule that stops firing prints what there is and a note")
    func searchHorizon() throws {
        let result = try stepwise("cron", "0 0 29 2 *", "--after", "2096-01-01T00:00:00Z", "--count", "2")
        #expect(result.status == 0)
        #expect(result.standardOutput == "2096-02-29T00:00:00+00:00\n")
        #expect(result.standardError == "note: the schedule does not fire within 5 years after 2096-02-29T00:00:00+00:00\n")
    }

    @Test("an invalid expression prints the error with a caret and exits 1")
    func invalidExpression() throws {
        let result = try stepwise("cron", "0 9 * * mon-fry")
        #expect(result.status == 1)
        #expect(result.standardOutput == "")
        #expect(result.standardError == """
            error: invalid cron expression: unknown day-of-week name 'fry'
              0 9 * * mon-fry
                          ^

            """)
    }

    @Test("an unknown time zone exits 1")
    func unknownTimeZone() throws {
        let result = try stepwise("cron", "0 9 * * *", "--timezone", "Europe/Berlni")
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("error: unknown time zone 'Europe/Berlni'"), "\(result.standardError)")
    }

    @Test("usage errors exit 2", arguments: [
        ["cron"],
        ["cron", "* * * * *", "--count", "0"],
        ["cron", "* * * * *", "--after", "tomorrow"],
        ["cron", "* * * * *", "--batch"],
    ])
    func usageErrors(arguments: [String]) throws {
        let result = try stepwise(arguments: arguments)
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardOutput == "")
    }

    @Test("--batch answers each JSON line with one JSON line; the options give the defaults")
    func batch() throws {
        let requests = """
            {"cron": "0 9 * * 1", "timezone": "Europe/Berlin", "after": "2026-03-20T00:00:00Z", "count": 3}

            {"cron": "0 0 1 1 *"}
            {"cron": "61 * * * *"}
            {"cron": "* * * * *", "timzone": "UTC"}
            [1, 2]

            """
        let result = try stepwise("cron", "--batch", "--after", "2030-06-01T00:00:00Z", "--count", "1", standardInput: requests)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == """
            {"times":["2026-03-23T09:00:00+01:00","2026-03-30T09:00:00+02:00","2026-04-06T09:00:00+02:00"]}
            {"times":["2031-01-01T00:00:00+00:00"]}
            {"error":"invalid cron expression: minute value 61 is out of range 0-59"}
            {"error":"unknown key 'timzone' (expected cron, timezone, after, count)"}
            {"error":"expected a JSON object like {\\"cron\\": \\"0 9 * * *\\"}"}

            """)
    }
}
