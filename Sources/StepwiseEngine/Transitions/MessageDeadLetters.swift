/// The DLQ of plain QStash messages, kept, read and trimmed the same way on every store over
/// `MessageDeadLetterRows`; what enters it is decided by `QueuedAttemptResolver`, and a retry
/// queues the message again through `RunTransitions.retry(messageDeadLetters:at:)`.
public struct MessageDeadLetters<Rows: MessageDeadLetterRows> {
    /// The most expired entries one `keep` deletes, so that no transaction grows with a backlog.
    static var expiredPerEntry: Int { 100 }

    let rows: Rows

    /// Entries kept through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Keeps `letter`, deleting some entries that failed more than the retention before it.
    public func keep(_ letter: MessageDeadLetter) throws {
        try rows.deleteMessageDeadLetters(failedBefore: letter.failedAt - MessageDeadLetter.retentionMilliseconds, limit: Self.expiredPerEntry)
        try rows.saveMessageDeadLetter(letter)
    }

    /// Up to `count` entries matching `filter` after `cursor`, newest failure first, and the
    /// cursor of the next page (`nil` on the last). A page is measured by its rows, so an entry
    /// that cannot be read (stored by a newer version) is left out without ending the listing.
    public func page(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, count: Int) throws -> (
        letters: [MessageDeadLetter], next: PageCursor?
    ) {
        let limit = min(max(count, 1), MessageDeadLetterFilter.maximumPage)
        let (entries, last) = try PagedRows.page(limit: limit) { try rows.messageDeadLetters(matching: filter, after: cursor, limit: $0) }
        return (entries.compactMap(\.letter), last?.position)
    }

    /// Deletes the entries among `ids`; how many there were.
    public func delete(_ ids: [String]) throws -> Int {
        try Set(ids).reduce(0) { deleted, id in try rows.deleteMessageDeadLetter(id: id) ? deleted + 1 : deleted }
    }
}

/// The rows of the plain messages' DLQ.
public protocol MessageDeadLetterRows {
    /// Keeps `letter`, unless an entry with its id is kept already (a message gives up once).
    func saveMessageDeadLetter(_ letter: MessageDeadLetter) throws
    /// The entry `id`, if any.
    func messageDeadLetter(id: String) throws -> MessageDeadLetter?
    /// Up to `limit` entries matching `filter` that come after `cursor` (all when `nil`) in the
    /// order newest failure first, ties by id descending: each row's position (failure time and
    /// id) and its entry, `nil` when the row cannot be read.
    func messageDeadLetters(matching filter: MessageDeadLetterFilter, after cursor: PageCursor?, limit: Int) throws -> [(
        position: PageCursor, letter: MessageDeadLetter?
    )]
    /// Deletes entry `id`; whether there was one.
    func deleteMessageDeadLetter(id: String) throws -> Bool
    /// Deletes up to `limit` entries that failed before `failedBefore` (milliseconds), oldest first.
    func deleteMessageDeadLetters(failedBefore: Int64, limit: Int) throws
}
