import StepwiseEngine

extension Store {
    /// Every entry of the workflow DLQ, newest failure first, read a page at a time.
    public func allDeadLetters() async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        var cursor: PageCursor?
        repeat {
            let page = try await deadLetters(matching: DeadLetterFilter(), after: cursor, count: DeadLetterFilter.maximumPage)
            letters += page.letters
            cursor = page.next
        } while cursor != nil
        return letters
    }
}
