import StepwiseExpressions

extension JournalEntry {
    /// The entry as Upstash step JSON: `out` is the JSON *text* of the result, as the SDKs expect.
    public var json: Value {
        var map = ValueMap([
            ("stepId", .int(Int64(stepId))), ("stepName", .string(stepName)), ("stepType", .string(stepType.rawValue)),
            ("concurrent", .int(Int64(concurrent))),
        ])
        if let out { map[.string("out")] = .string(out.jsonText()) }
        if let targetStep { map[.string("targetStep")] = .int(Int64(targetStep)) }
        if let sleepFor { map[.string("sleepFor")] = .int(sleepFor) }
        if let sleepUntil { map[.string("sleepUntil")] = .int(sleepUntil) }
        if let error {
            map[.string("error")] = error.value
        }
        return .map(map)
    }

    /// Reads step JSON written by `json` (or by an Upstash SDK); throws when a field is missing or malformed.
    public init(json: Value) throws(JournalDecodingError) {
        guard case .map(let map) = json else { throw JournalDecodingError("a journal entry must be a JSON object") }
        guard case .int(let stepId)? = map[.string("stepId")] else { throw JournalDecodingError("missing stepId") }
        guard case .string(let stepName)? = map[.string("stepName")] else { throw JournalDecodingError("missing stepName") }
        guard case .string(let typeName)? = map[.string("stepType")], let stepType = StepType(rawValue: typeName) else {
            throw JournalDecodingError("missing or unknown stepType")
        }
        var out: Value?
        if case .string(let text)? = map[.string("out")] {
            do {
                out = try Value(json: text)
            } catch {
                throw JournalDecodingError("out of step \(stepId) is not JSON text: \(error.message)")
            }
        }
        self.init(stepId: Int(stepId), stepName: stepName, stepType: stepType, out: out)
        if case .int(let concurrent)? = map[.string("concurrent")] { self.concurrent = Int(concurrent) }
        if case .int(let target)? = map[.string("targetStep")] { targetStep = Int(target) }
        if case .int(let seconds)? = map[.string("sleepFor")] { sleepFor = seconds }
        if case .int(let seconds)? = map[.string("sleepUntil")] { sleepUntil = seconds }
        if let failure = map[.string("error")] { error = StepError(value: failure) }
    }
}

/// A journal entry that cannot be read.
public struct JournalDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension Value {
    var text: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
