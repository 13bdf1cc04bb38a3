import StepwiseExpressions
import StepwiseLanguage

/// One question `stepwise cron` answers: the next `count` times a cron expression fires after an
/// instant, with its fields read as wall-clock time in an IANA time zone.
struct CronQuery {
    /// Why a query has no answer: an invalid expression (with the offset of the offending part) or
    /// time zone, or, in batch mode, a malformed request line.
    struct Failure: Error {
        let message: String
        /// The character offset in the cron text, for a caret under it; nil when the text is fine.
        var offset: Int?
    }

    /// The largest `count` accepted: enough to see a schedule's pattern, small enough to stay fast.
    static let counts = 1...1_000

    var expression: String
    var timeZone: String
    var after: TimestampValue
    var count: Int

    /// The fire times in RFC 3339 with the zone's UTC offset at each of them, earliest first.
    /// Fewer than `count` when the schedule does not fire again within
    /// `CronExpression.searchYears` years of the last one found.
    func fireTimes() throws(Failure) -> [String] {
        guard CronExpression.isValidTimeZone(timeZone) else {
            throw Failure(message: "unknown time zone '\(timeZone)': use an IANA name such as Europe/Berlin or UTC")
        }
        let schedule: CronExpression
        do {
            schedule = try CronExpression(parsing: expression)
        } catch {
            throw Failure(message: "invalid cron expression: \(error.message)", offset: error.offset)
        }
        var times: [String] = []
        var instant = after
        while times.count < count {
            // The zone was checked above, the only reason the search throws.
            guard let next = try? schedule.nextFireTime(after: instant, in: timeZone) else { break }
            let offset = (try? next.utcOffsetSeconds(in: timeZone)) ?? 0
            times.append(next.rfc3339(utcOffsetSeconds: offset))
            instant = next
        }
        return times
    }
}

// MARK: - Batch requests

extension CronQuery {
    /// The keys a batch request line may have.
    private static let requestKeys = ["cron", "timezone", "after", "count"]

    /// Reads one batch request, a JSON object `{"cron", "timezone"?, "after"?, "count"?}`; the
    /// keys it omits come from `defaults`.
    init(request line: String, defaults: CronQuery) throws(Failure) {
        let value: Value
        do {
            value = try Value(json: line)
        } catch {
            throw Failure(message: "not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .map(let request) = value else {
            throw Failure(message: "expected a JSON object like {\"cron\": \"0 9 * * *\"}")
        }
        if let unknown = request.keys.first(where: { !Self.requestKeys.contains($0.text) }) {
            throw Failure(message: "unknown key '\(unknown.text)' (expected \(Self.requestKeys.joined(separator: ", ")))")
        }
        self = defaults
        guard case .string(let cron)? = request[.string("cron")] else {
            throw Failure(message: "\"cron\" must be a string holding the cron expression")
        }
        expression = cron
        if let zone = request[.string("timezone")] {
            guard case .string(let name) = zone else { throw Failure(message: "\"timezone\" must be a string") }
            timeZone = name
        }
        if let instant = request[.string("after")] {
            guard case .string(let text) = instant else { throw Failure(message: "\"after\" must be an RFC 3339 string") }
            after = try Self.instant(text, what: "\"after\"")
        }
        if let number = request[.string("count")] {
            guard let count = Self.count(number) else {
                throw Failure(message: "\"count\" must be a whole number from \(Self.counts.lowerBound) to \(Self.counts.upperBound)")
            }
            self.count = count
        }
    }

    /// Parses an RFC 3339 instant; `what` names it in the message.
    static func instant(_ text: String, what: String) throws(Failure) -> TimestampValue {
        do {
            return try TimestampValue(parsing: text)
        } catch {
            throw Failure(message: "\(what): \(error.message)")
        }
    }

    private static func count(_ value: Value) -> Int? {
        let number: Int? =
            switch value {
            case .int(let integer): Int(exactly: integer)
            case .uint(let integer): Int(exactly: integer)
            default: nil
            }
        return number.flatMap { counts.contains($0) ? $0 : nil }
    }
}
