import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseLanguage

/// `stepwise cron`: prints when a cron schedule fires next, exactly as workflow schedules fire.
struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Print the next times a cron schedule fires.",
        discussion: """
            The five fields (or a macro such as @daily) are read as wall-clock time in --timezone, \
            with the daylight saving time policy of workflow schedules: a time skipped when clocks \
            spring forward fires once at the end of the gap, a time repeated when they fall back \
            fires once. Times are printed in RFC 3339 with the zone's UTC offset.

              stepwise cron '0 9 * * mon-fri' --timezone Europe/Berlin
              stepwise cron '30 2 * * *' --timezone America/New_York --after 2026-03-07T00:00:00Z --count 3

            --batch reads JSON lines from standard input, {"cron": "…", "timezone": "…", \
            "after": "RFC 3339", "count": N}, where all but cron are optional and default to the \
            options, and writes one JSON line per request: {"times": […]} or {"error": "…"}.

            Exit status: 0 on success, 1 for an invalid expression or time zone, 2 for usage errors.
            """
    )

    @Argument(help: "The cron expression, e.g. \"0 9 * * mon-fri\" or \"@daily\" (none with --batch).")
    var expression: String?

    @Option(name: .long, help: "The IANA time zone the fields are read in.")
    var timezone = "UTC"

    @Option(name: .long, help: "Print the fire times after this RFC 3339 time (default: now).")
    var after: String?

    @Option(name: .long, parsing: .unconditional, help: "How many fire times to print (1 to 1000).")
    var count = 5

    @Flag(name: .long, help: "Answer JSON lines from standard input, one JSON line each.")
    var batch = false

    func validate() throws {
        if batch, expression != nil { throw ValidationError("give either an EXPRESSION or --batch, not both") }
        if !batch, expression == nil { throw ValidationError("missing EXPRESSION (or --batch to read JSON lines)") }
        guard CronQuery.counts.contains(count) else {
            throw ValidationError("--count must be from \(CronQuery.counts.lowerBound) to \(CronQuery.counts.upperBound)")
        }
    }

    func run() throws {
        var query = CronQuery(expression: expression ?? "", timeZone: timezone, after: WorkflowEngine.systemTime(), count: count)
        if let after {
            do {
                query.after = try CronQuery.instant(after, what: "--after")
            } catch {
                throw CommandFailure.usage(error.message)
            }
        }
        if batch {
            answerRequests(defaults: query)
        } else {
            try printFireTimes(query)
        }
    }

    private func printFireTimes(_ query: CronQuery) throws {
        let times: [String]
        do {
            times = try query.fireTimes()
        } catch {
            var message = error.message
            if let offset = error.offset {
                message += "\n" + SourceLocation(offset: offset, in: query.expression).snippet(of: query.expression)
            }
            throw CommandFailure.failed(message)
        }
        for time in times { print(time) }
        if times.count < query.count {
            let last = times.last.map { "after \($0)" } ?? "after \(query.after)"
            FileHandle.standardError.write(Data("note: the schedule does not fire within \(CronExpression.searchYears) years \(last)\n".utf8))
        }
    }

    /// Batch mode: one JSON line out for every non-blank line in, flushed at once so that a
    /// script can also talk to the command line by line.
    private func answerRequests(defaults: CronQuery) {
        while let line = readLine(strippingNewline: true) {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let answer: Value
            do {
                let times = try CronQuery(request: line, defaults: defaults).fireTimes()
                answer = ["times": .list(times.map(Value.string))]
            } catch {
                answer = ["error": .string(error.message)]
            }
            print(answer.jsonText())
            fflush(nil)
        }
    }
}
