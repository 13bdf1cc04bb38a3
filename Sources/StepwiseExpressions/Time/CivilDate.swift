/// A date in the proleptic Gregorian calendar, convertible to and from a day count relative to
/// 1970-01-01.
///
/// The conversions are Howard Hinnant's `days_from_civil` / `civil_from_days` algorithms
/// (http://howardhinnant.github.io/date_algorithms.html). They work on whole 400-year "eras",
/// which makes them exact for negative years and years beyond 9999 as well; local times near the
/// ends of the timestamp range can fall into year 0 or 10000.
public struct CivilDate: Sendable, Hashable, Comparable {
    /// The astronomical year (year 0 is 1 BC).
    public let year: Int64
    /// The month, 1 (January) through 12.
    public let month: Int64
    /// The day of the month, starting at 1.
    public let day: Int64

    /// Creates a date from fields that are not checked (day 32 of a month counts on into the
    /// next one in `daysSinceEpoch`); use `validated(year:month:day:)` for input.
    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Creates a date after checking that `month` is 1–12 and `day` exists in that month.
    public static func validated(year: Int64, month: Int64, day: Int64) throws(EvaluationError) -> CivilDate {
        guard (1...12).contains(month) else {
            throw EvaluationError("month \(month) is not in 1...12")
        }
        let length = daysInMonth(month, year: year)
        guard (1...length).contains(day) else {
            throw EvaluationError("day \(day) does not exist in month \(month) of \(year) (which has \(length) days)")
        }
        return CivilDate(year: year, month: month, day: day)
    }

    /// Creates the date that lies `days` days after 1970-01-01 (negative values lie before it).
    public init(daysSinceEpoch days: Int64) {
        // Shift the epoch to 0000-03-01 so that the leap day is the last day of the shifted year.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097                                            // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfShiftedYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365]
        let shiftedMonth = (5 * dayOfShiftedYear + 2) / 153                               // [0, 11], 0 = March
        let day = dayOfShiftedYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.init(year: year, month: month, day: day)
    }

    /// The number of days from 1970-01-01 to this date (negative for earlier dates).
    public var daysSinceEpoch: Int64 {
        // January and February belong to the previous shifted year (which starts on March 1).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400                                           // [0, 399]
        let shiftedMonth = month > 2 ? month - 3 : month + 9                              // [0, 11]
        let dayOfShiftedYear = (153 * shiftedMonth + 2) / 5 + day - 1                     // [0, 365]
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfShiftedYear  // [0, 146096]
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The zero-based day of the year (0 for January 1).
    public var dayOfYear: Int64 {
        daysSinceEpoch - CivilDate(year: year, month: 1, day: 1).daysSinceEpoch
    }

    /// The day of the week, 0 for Sunday through 6 for Saturday.
    public var dayOfWeek: Int64 {
        // 1970-01-01 was a Thursday (4); the remainder is made non-negative for earlier dates.
        let remainder = (daysSinceEpoch + 4) % 7
        return remainder >= 0 ? remainder : remainder + 7
    }

    /// Whether `year` has a February 29 in the proleptic Gregorian calendar.
    public static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1–12) of `year`.
    public static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The number of days in this date's month.
    public var monthLength: Int64 { Self.daysInMonth(month, year: year) }

    /// The following day, not normalized: after the last day of a month comes day `monthLength + 1`.
    public var next: CivilDate { CivilDate(year: year, month: month, day: day + 1) }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}
