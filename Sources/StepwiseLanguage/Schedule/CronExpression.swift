import StepwiseExpressions

/// A five-field cron schedule (minute hour day-of-month month day-of-week), as written in a
/// workflow's `schedule` entries.
///
/// Syntax (case-insensitive): `*`, numbers, lists `1,15,30`, ranges `1-5`, steps `*/15`,
/// `10-50/10` and `5/15` (5 through the end of the field, every 15); months `jan`–`dec` and days
/// of the week `sun`–`sat` by name, also in ranges (`mon-fri`); day of week 0 and 7 are both
/// Sunday. A range may not run backwards (`5-1` is an error), except that a day-of-week range
/// ending in Sunday (`sat-sun`, `5-0`) runs through Sunday. A step must lie between 1 and the
/// field's largest value. The macros `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and
/// `@hourly` stand for `0 0 1 1 *`, `0 0 1 * *`, `0 0 * * 0`, `0 0 * * *` and `0 * * * *`.
///
/// Days follow Vixie cron: when both day fields are restricted, a day matching either of them
/// fires; when either day field starts with `*` (including `*/2`, exactly as Vixie cron and
/// cronie decide it), a day must match both.
///
/// Time zones and daylight saving time: the fields are read as wall-clock time in the schedule's
/// zone. A wall time that does not exist because clocks spring forward fires once, at the first
/// instant after the gap (a 02:30 job runs at 03:00 on a day when 02:00–03:00 is skipped, as in
/// cronie); all skipped wall times of one gap fire together, once. A wall time that occurs twice
/// because clocks fall back fires only at its first occurrence, so no wall time fires twice; a
/// job matching every minute or hour pauses while the repeated wall times come round again.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The normalized text: fields separated by single spaces with names in lower case, or the
    /// canonical macro (`@annually` becomes `@yearly`, `@midnight` becomes `@daily`).
    public let description: String

    private let minute: CronField
    private let hour: CronField
    private let dayOfMonth: CronField
    private let month: CronField
    private let dayOfWeek: CronField

    /// Searches give up after this many years, so that a schedule which fires rarely or never
    /// (such as February 29 on a weekday in AND mode) cannot make a search run long.
    public static let searchYears = 5

    private static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ]

    /// The canonical spelling of each macro that has a synonym.
    private static let canonicalMacros = ["@annually": "@yearly", "@midnight": "@daily"]

    /// Parses `text`; throws with the offset of the offending part (see `CronSyntaxError`).
    public init(parsing text: String) throws(CronSyntaxError) {
        let characters = Array(text)
        let fieldRanges = Self.fieldRanges(in: characters)
        guard let firstRange = fieldRanges.first else {
            throw CronSyntaxError(Self.fieldCountMessage(found: 0), offset: 0)
        }
        if characters[firstRange.lowerBound] == "@" {
            let name = String(characters[firstRange]).lowercased()
            guard let macro = Self.macros.first(where: { $0.name == name }) else {
                let names = Self.macros.map(\.name)
                let expected = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
                throw CronSyntaxError(
                    "unknown macro '\(String(characters[firstRange]))' (expected \(expected))",
                    offset: firstRange.lowerBound
                )
            }
            if fieldRanges.count > 1 {
                let extra = fieldRanges[1]
                throw CronSyntaxError(
                    "unexpected '\(String(characters[extra]))' after \(name), which stands for a whole schedule",
                    offset: extra.lowerBound
                )
            }
            // The expansions are fixed valid strings, so this never throws in practice.
            let expanded = Array(macro.expansion)
            try self.init(
                characters: expanded,
                fieldRanges: Self.fieldRanges(in: expanded),
                description: Self.canonicalMacros[name] ?? name
            )
            return
        }
        try self.init(characters: characters, fieldRanges: fieldRanges, description: nil)
    }

    /// Parses exactly five fields found at `fieldRanges` of `characters`; `description` replaces
    /// the normalized field text when the fields came from a macro.
    private init(characters: [Character], fieldRanges: [Range<Int>], description: String?) throws(CronSyntaxError) {
        guard fieldRanges.count == 5 else {
            // Point at the first surplus field, or just past the last field when some are missing.
            let offset = fieldRanges.count > 5 ? fieldRanges[5].lowerBound : (fieldRanges.last?.upperBound ?? 0)
            throw CronSyntaxError(Self.fieldCountMessage(found: fieldRanges.count), offset: offset)
        }
        var fields: [CronField] = []
        for (range, kind) in zip(fieldRanges, CronField.Kind.allCases) {
            fields.append(try CronField(parsing: characters[range], kind: kind, offset: range.lowerBound))
        }
        minute = fields[0]
        hour = fields[1]
        dayOfMonth = fields[2]
        month = fields[3]
        dayOfWeek = fields[4]
        self.description = description
            ?? fieldRanges.map { String(characters[$0]).lowercased() }.joined(separator: " ")
        try checkDaysExist(dayOfMonthOffset: fieldRanges[2].lowerBound)
    }

    /// The ranges of the whitespace-separated fields of `characters`.
    private static func fieldRanges(in characters: [Character]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int?
        for (index, character) in characters.enumerated() {
            if character.isWhitespace {
                if let fieldStart = start {
                    ranges.append(fieldStart..<index)
                    start = nil
                }
            } else if start == nil {
                start = index
            }
        }
        if let fieldStart = start {
            ranges.append(fieldStart..<characters.count)
        }
        return ranges
    }

    private static func fieldCountMessage(found count: Int) -> String {
        let names = CronField.Kind.allCases.map(\.name).joined(separator: " ")
        return "expected 5 fields (\(names)), found \(count)"
    }

    /// Rejects a day of month that no selected month has, such as `0 0 31 2 *` or `0 0 30 2 *`:
    /// such a schedule is accepted by classic cron but silently never runs, a mistake users make.
    /// Only when the day of week starts with `*` does the day of month alone decide; otherwise a
    /// matching weekday still fires (Vixie OR rule), so the schedule is not dead.
    private func checkDaysExist(dayOfMonthOffset: Int) throws(CronSyntaxError) {
        guard dayOfWeek.startsWithStar else { return }
        let days = dayOfMonth.values
        let months = month.values
        let longest = months.map(Self.longestLength(ofMonth:)).max() ?? 31
        guard let earliest = days.first, earliest > longest else { return }
        let monthNames = months.map { Self.monthNames[$0 - 1] }
        let monthList = monthNames.count == 1
            ? monthNames[0]
            : monthNames.dropLast().joined(separator: ", ") + " or " + (monthNames.last ?? "")
        let dayList = days.dropLast().map(String.init).joined(separator: ", ") + " and \(days.last ?? earliest)"
        let message = days.count == 1
            ? "day \(earliest) never occurs in \(monthList)"
            : "days \(dayList) never occur in \(monthList)"
        throw CronSyntaxError(message, offset: dayOfMonthOffset)
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]

    /// The most days `month` can have in any year (29 for February, which leap years give).
    private static func longestLength(ofMonth month: Int) -> Int {
        switch month {
        case 2: 29
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

// MARK: - Time zones

extension CronExpression {
    /// Whether `name` is a time zone a schedule may use: an IANA name known to the system's time
    /// zone database (`UTC`, `Europe/Berlin`). Fixed offsets such as `+05:30`, which CEL's
    /// timestamp functions accept, are rejected: a schedule's zone is documented as an IANA name,
    /// and an offset could never follow daylight saving time. So are Foundation's `GMT+5` and
    /// `UTC-0300` forms: they read the sign the opposite way from IANA's `Etc/GMT+5` (UTC-5), so
    /// accepting them would invite schedules that run ten hours off.
    public static func isValidTimeZone(_ name: String) -> Bool {
        guard !name.isEmpty, !name.contains(":") else { return false }
        let isSignedOffset = ["GMT+", "GMT-", "UTC+", "UTC-"].contains { name.hasPrefix($0) }
        // IANA itself has GMT+0 and GMT-0, plain aliases of GMT.
        guard !isSignedOffset || name == "GMT+0" || name == "GMT-0" else { return false }
        return (try? TimestampValue(secondsSinceEpoch: 0).utcOffsetSeconds(in: name)) != nil
    }

    /// The offsets of one zone, looked up through `TimestampValue` so that schedules and CEL's
    /// timestamp functions share one time zone database.
    private struct Zone {
        /// The IANA name, or nil for UTC.
        let name: String?

        /// Seconds from the epoch to 0001-01-01T00:00:00Z and to 9999-12-31T23:59:59Z, the
        /// instants `TimestampValue` can represent.
        private static let representable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

        /// The offset east of UTC in force at `second` (seconds since the epoch). Instants outside
        /// the representable range use the offset at its nearest end; searches only probe there
        /// near the ends of time, where zones do not change offset.
        func offset(at second: Int64) -> Int64 {
            guard let name else { return 0 }
            let clamped = min(max(second, Self.representable.lowerBound), Self.representable.upperBound)
            // The name was validated before any lookup, so the lookup cannot fail; 0 is a
            // harmless fallback rather than a trap.
            let offset = (try? TimestampValue(secondsSinceEpoch: clamped).utcOffsetSeconds(in: name)) ?? 0
            return Int64(offset)
        }

        /// The wall-clock time (seconds since the epoch of local time) at `second`.
        func wallTime(at second: Int64) -> Int64 {
            second + offset(at: second)
        }

        /// The first instant whose wall-clock time is `wall` or, when `wall` falls in a gap
        /// because clocks sprang forward, the first instant after the gap.
        ///
        /// Every instant showing `wall` lies within 26 hours of `wall` read as UTC (offsets lie
        /// within -12...+14 hours), so the offsets in force two days either side, one day either
        /// side and at `wall` itself name every candidate, provided a zone changes offset at most
        /// once in any two days, which holds for the tz database.
        func firstInstant(atWallTime wall: Int64) -> Int64 {
            let day: Int64 = 86_400
            let outer = [offset(at: wall - 2 * day), offset(at: wall), offset(at: wall + 2 * day)]
            // The common case, no transition nearby: one offset, one instant.
            if outer[0] == outer[1], outer[1] == outer[2], offset(at: wall - outer[1]) == outer[1] {
                return wall - outer[1]
            }
            var offsets = Set(outer)
            offsets.insert(offset(at: wall - day))
            offsets.insert(offset(at: wall + day))
            let candidates = offsets.map { wall - $0 }
            // Fall back: the same wall time twice; the earlier instant is the first occurrence.
            if let first = candidates.filter({ wallTime(at: $0) == wall }).min() {
                return first
            }
            // Spring forward: `wall` does not exist. Find the transition, the first instant whose
            // wall time is past `wall`, by bisection between a candidate before the gap and one
            // after it (or the outermost instants that could be involved, which bracket it too).
            var before = candidates.filter { wallTime(at: $0) < wall }.max() ?? wall - 2 * day
            var after = candidates.filter { wallTime(at: $0) > wall && $0 > before }.min() ?? wall + 2 * day
            while after - before > 1 {
                let middle = before + (after - before) / 2
                if wallTime(at: middle) >= wall {
                    after = middle
                } else {
                    before = middle
                }
            }
            return after
        }
    }
}

// MARK: - Next fire time

extension CronExpression {
    /// The first instant strictly after `instant` at which the schedule fires, reading the fields
    /// as wall-clock time in `timeZone` (an IANA name such as `Europe/Berlin`, or nil for UTC).
    ///
    /// Daylight saving time follows the policy in the type's documentation: a wall time skipped
    /// by a spring-forward gap fires once at the first instant after the gap, and a wall time
    /// repeated by a fall-back fires only at its first occurrence. Returns nil when the schedule
    /// does not fire within 5 years of `instant` (February 29 in a century year can make even
    /// `0 0 29 2 *` wait 8 years) or before the end of the representable range.
    ///
    /// The search walks the calendar field by field, jumping to the next selected month, day,
    /// hour and minute, so it inspects at most a few thousand days even for rare schedules.
    /// Throws only for an unknown time zone (message `unknown time zone 'X'`, offset 0).
    public func nextFireTime(after instant: TimestampValue, in timeZone: String?) throws(CronSyntaxError) -> TimestampValue? {
        if let timeZone, !Self.isValidTimeZone(timeZone) {
            throw CronSyntaxError("unknown time zone '\(timeZone)'", offset: 0)
        }
        let zone = Zone(name: timeZone)
        // Every wall time up to the one showing at `instant` first occurs at or before `instant`,
        // so the search starts at the next whole minute of wall time.
        let startWall = zone.wallTime(at: instant.secondsSinceEpoch)
        let startMinute = Self.flooredDivision(startWall, by: 60) + 1
        var date = CivilDate(daysSinceEpoch: Self.flooredDivision(startMinute, by: 1_440))
        var hour = Int((startMinute - date.daysSinceEpoch * 1_440) / 60)
        var minute = Int(startMinute % 60 + (startMinute % 60 < 0 ? 60 : 0))
        let limit = CivilDate(year: date.year + Int64(Self.searchYears), month: date.month, day: date.day)

        while date <= limit {
            guard self.month.contains(Int(date.month)) else {
                date = nextSelectedMonth(after: date)
                (hour, minute) = (0, 0)
                continue
            }
            guard date.day <= date.monthLength else {
                date = nextSelectedMonth(after: date)
                (hour, minute) = (0, 0)
                continue
            }
            guard matchesDay(date) else {
                date = date.next
                (hour, minute) = (0, 0)
                continue
            }
            guard let nextHour = self.hour.first(atLeast: hour) else {
                date = date.next
                (hour, minute) = (0, 0)
                continue
            }
            if nextHour != hour {
                (hour, minute) = (nextHour, 0)
            }
            guard let nextMinute = self.minute.first(atLeast: minute) else {
                (hour, minute) = (hour + 1, 0)
                continue
            }
            minute = nextMinute
            let wall = date.daysSinceEpoch * 86_400 + Int64(hour * 3_600 + minute * 60)
            let fire = zone.firstInstant(atWallTime: wall)
            // A wall time can first occur at or before `instant` after a fall-back (when `instant`
            // lies in the repeated hour); such a time has had its turn, so keep looking.
            if Int128(fire) * 1_000_000_000 > instant.nanosecondsSinceEpoch {
                return try? TimestampValue(secondsSinceEpoch: fire)
            }
            minute += 1
        }
        return nil
    }

    /// Vixie cron's day rule: OR when both day fields are restricted, AND otherwise.
    private func matchesDay(_ date: CivilDate) -> Bool {
        let dayOfMonthMatches = dayOfMonth.contains(Int(date.day))
        let dayOfWeekMatches = dayOfWeek.contains(Int(date.dayOfWeek))
        if dayOfMonth.startsWithStar || dayOfWeek.startsWithStar {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// The first day of the next selected month after the month of `date`.
    private func nextSelectedMonth(after date: CivilDate) -> CivilDate {
        if let next = month.first(atLeast: Int(date.month) + 1) {
            return CivilDate(year: date.year, month: Int64(next), day: 1)
        }
        return CivilDate(year: date.year + 1, month: Int64(month.first(atLeast: 1) ?? 1), day: 1)
    }

    private static func flooredDivision(_ value: Int64, by divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
