import Hummingbird
import StepwiseProtocol

/// The parameters QStash's listings share (`/v2/dlq`, `/v2/events`), read the same way: an empty
/// value (`?label=`) is no value, and a wrong one is an error naming its parameter.
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

    /// `count`: a whole number from 1, more than `maximum` reading as `maximum`; `maximum` when absent.
    func count(maximum: Int) throws(ProtocolError) -> Int {
        guard let text = text("count") else { return maximum }
        guard let count = Int(text), count >= 1 else { throw ProtocolError("count must be a whole number from 1") }
        return min(count, maximum)
    }

    /// `fromDate` and `toDate`, unix milliseconds.
    func dates() throws(ProtocolError) -> (from: Int64?, to: Int64?) {
        (try milliseconds("fromDate"), try milliseconds("toDate"))
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
        guard let text = text(name) else { return nil }
        guard let milliseconds = Int64(text) else { throw ProtocolError("\(name) must be unix milliseconds") }
        return milliseconds
    }
}
