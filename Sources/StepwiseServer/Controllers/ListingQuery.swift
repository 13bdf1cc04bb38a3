import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The parameters QStash's listings and bulk actions share, read the same way: an empty value
/// (`?label=`) is no value (a bulk action refuses it instead, `refuseEmpty`), a second value of
/// one is refused where it would be dropped (`single`), and a wrong one is an error naming its
/// parameter.
struct ListingQuery {
    let parameters: Hummingbird.Parameters

    /// The non-empty value of `name`, if any.
    func text(_ name: String) -> String? {
        parameters[Substring(name)].flatMap { $0.isEmpty ? nil : String($0) }
    }

    /// Every non-empty value of `name`, repeated or not.
    func texts(_ name: String) -> [String] {
        parameters.getAll(name).filter { !$0.isEmpty }
    }

    /// Every value of multi-value filter `name`, repeated (`label=a&label=b`) or comma-separated
    /// (`label=a,b`), as Upstash reads them: what matches any is taken. An error for a value that
    /// names none (`label=,`), which would otherwise widen the filter to everything.
    func values(_ name: String) throws(ProtocolError) -> [String] {
        var values: [String] = []
        for text in texts(name) {
            let items = CommaList.items(text)
            guard !items.isEmpty else { throw ProtocolError("\(name) '\(text)' names no value") }
            values += items
        }
        return Self.distinct(values)
    }

    /// Every value of multi-value filter `name` that is a URL or a URL's path, repeated only
    /// (`url=a&url=b`): a URL may hold a comma, which must not make it two, one of them a prefix
    /// that takes more than meant.
    func urls(_ name: String) -> [String] {
        Self.distinct(texts(name))
    }

    /// `values` without repeats, compared by Unicode scalars as the stores compare.
    private static func distinct(_ values: [String]) -> [String] {
        values.reduce(into: []) { kept, value in
            if !kept.contains(where: { $0.unicodeScalars.elementsEqual(value.unicodeScalars) }) { kept.append(value) }
        }
    }

    /// The filter of the address a request came from, in both spellings Upstash's clients send.
    static let callerFilters = ["callerIp", "callerIP"]

    /// QStash's message filters `messageMatch` reads.
    static let messageFilters = ["url", "topicName", "queueName", "scheduleId", "label", "host", "path", "flowControlKey"] + callerFilters

    /// QStash's message filters (`messageFilters`), each of several values (`values`; `urls` for
    /// URLs and paths); hosts compare without ASCII case, as `Destination.host(of:)` gives them.
    func messageMatch() throws(ProtocolError) -> MessageMatch {
        var match = MessageMatch()
        match.urls = urls("url")
        match.urlGroups = try values("topicName")
        match.queues = try values("queueName")
        match.scheduleIds = try values("scheduleId")
        match.labels = try values("label")
        match.hosts = try values("host").map(Destination.lowercasedHost)
        match.paths = urls("path")
        match.flowControlKeys = try values("flowControlKey")
        match.callerIps = try callerIps()
        return match
    }

    /// The filters the listings of runs share (`label`, `flowControlKey`, `callerIp`), each of
    /// several values, set on `filter` (the workflow DLQ reads them into its own filter).
    func runMatch(into filter: inout RunFilter) throws(ProtocolError) {
        filter.labels = try values("label")
        filter.flowControlKeys = try values("flowControlKey")
        filter.callerIps = try callerIps()
    }

    /// The addresses of `callerFilters`, each of several values (`values`), written as the stores
    /// keep them (`CallerAddress`).
    func callerIps() throws(ProtocolError) -> [String] {
        Self.distinct(try (values("callerIp") + values("callerIP")).map(CallerAddress.normalized))
    }

    /// `count`: a whole number from 1, more than `maximum` reading as `maximum`; `maximum` when absent.
    func count(maximum: Int) throws(ProtocolError) -> Int {
        guard let text = try single("count") else { return maximum }
        // Digits beyond what an Int holds are a count larger than any maximum, not a mistake.
        let digits = text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard let count = Int(text) ?? (digits ? Int.max : nil), count >= 1 else { throw ProtocolError("count must be a whole number from 1, not '\(text)'") }
        return min(count, maximum)
    }

    /// `fromDate` and `toDate`, unix milliseconds.
    func dates() throws(ProtocolError) -> (from: Int64?, to: Int64?) {
        (try milliseconds("fromDate"), try milliseconds("toDate"))
    }

    /// The ids a bulk request names in `member`: repeated or comma-separated in the query, or a
    /// JSON body `{"<member>": [...]}`, not both; `nil` when it names none (it selects by filter
    /// then). An error for a body of another shape, or ids in both.
    func namedIds(_ member: String, body: Value) throws(ProtocolError) -> [String]? {
        let inQuery = try values(member)
        guard body != .null else { return inQuery.isEmpty ? nil : inQuery }
        guard let inBody = RequestBody.strings(in: body, member: member) else {
            throw ProtocolError("the body must be {\"\(member)\": [...]}, a list of ids")
        }
        guard inQuery.isEmpty else { throw ProtocolError("name the ids in the body or in the query, not both") }
        return inBody
    }

    /// Refuses the first of `unserved` the query gives: ignoring it would select what it does
    /// not match.
    func refuseUnserved(_ unserved: [(String, String)]) throws(ProtocolError) {
        for (name, why) in unserved where text(name) != nil {
            throw ProtocolError("\(name) cannot filter here: \(why)")
        }
    }

    /// Refuses a parameter not among `allowed` (nor the token's), where a misspelt filter left out
    /// would widen what a request acts on.
    func refuseUnknown(allowed: [String], in request: String) throws(ProtocolError) {
        if let unknown = parameters.map(\.key).first(where: { !allowed.contains(String($0)) && $0 != TokenParameter.name }) {
            throw ProtocolError("\(unknown) is not a parameter of \(request); it takes \(allowed.joined(separator: ", "))")
        }
    }

    /// Refuses the first of `names` given without a value, where no value would widen what a
    /// request acts on.
    func refuseEmpty(_ names: [String]) throws(ProtocolError) {
        if let empty = names.first(where: { parameters.getAll($0).contains("") }) {
            throw ProtocolError("\(empty) has no value; give one, or leave it out")
        }
    }

    /// The one value of `name`, if given; an error for several.
    func single(_ name: String) throws(ProtocolError) -> String? {
        let values = texts(name)
        guard values.count <= 1 else { throw ProtocolError("give one value of \(name): runs or entries matching any of several are not selected together") }
        return values.first
    }

    /// The value of switch `name`, if given: `true` or `false`, once; an error for any other value,
    /// an empty one or several, which must not be taken for either.
    func flag(_ name: String) throws(ProtocolError) -> Bool? {
        let values = parameters.getAll(name)
        guard values.count <= 1 else { throw ProtocolError("give \(name) once, true or false") }
        switch values.first {
        case nil: return nil
        case "true": return true
        case "false": return false
        case let other?: throw ProtocolError("\(name) must be true or false, not '\(other)'")
        }
    }

    /// `fromDate` and `toDate` as a creation range of runs: from inclusive, before exclusive (the
    /// millisecond after `toDate`, which is inclusive).
    func createdRange() throws(ProtocolError) -> (from: TimestampValue?, before: TimestampValue?) {
        let (from, to) = try dates()
        return (try from.map { (value) throws(ProtocolError) in try Self.timestamp(value, "fromDate") },
                try to.map { (value) throws(ProtocolError) in try Self.timestamp(value.addingReportingOverflow(1).partialValue, "toDate") })
    }

    /// The instant `milliseconds` after the epoch; an error naming `name` beyond the years 1–9999.
    static func timestamp(_ milliseconds: Int64, _ name: String) throws(ProtocolError) -> TimestampValue {
        guard let time = TimestampValue(millisecondsSinceEpoch: milliseconds) else {
            throw ProtocolError("\(name) must be unix milliseconds within the years 1–9999")
        }
        return time
    }

    /// The cursor's text, read by `read`; an error when `read` cannot.
    func cursor<Cursor>(_ read: (String) -> Cursor?) throws(ProtocolError) -> Cursor? {
        guard let text = text("cursor") else { return nil }
        guard let cursor = read(text) else {
            throw ProtocolError("cursor is not one this API gave out; pass the `cursor` of the previous page as it is")
        }
        return cursor
    }

    private func milliseconds(_ name: String) throws(ProtocolError) -> Int64? {
        guard let text = try single(name) else { return nil }
        guard let milliseconds = Int64(text) else { throw ProtocolError("\(name) must be unix milliseconds") }
        return milliseconds
    }
}
