import StepwiseExpressions
import StepwiseRuntime

/// A step JSON as an SDK published it (`src/types.ts` `Step` in workflow-js), kept as the exact
/// bytes plus the fields the engine needs. The server relays step JSON byte-exact, so unknown
/// members (Python's `method`, `null`s for unset fields, future fields) survive untouched in
/// `bytes` and `object`.
public struct StepJSON: Sendable, Equatable {
    /// The exact bytes; what is stored and re-delivered.
    public let bytes: [UInt8]
    /// All members in their original order, including ones this type does not know.
    public let object: ValueMap
    /// 1-based position of the step in the workflow function; 0 for a plan step.
    public let stepId: Int64
    public let stepName: String
    /// `Run`, `SleepFor`, `Call`, `Wait`, `Invoke`, … kept as text because SDKs add types
    /// (`CreateWebhook`, `WaitForWebhook`) before servers learn them.
    public let stepType: String
    /// 1 for a sequential step; the group size in a parallel group.
    public let concurrent: Int64?
    /// For a plan step: the `stepId` it plans.
    public let targetStep: Int64?
    /// The result as the string the SDK parses; its encoding depends on `stepType` (`StepOutput`).
    public let out: String?
    /// Seconds (`10`) or a duration text (`"10s"`), as the SDK wrote it.
    public let sleepFor: Value?
    /// Unix seconds.
    public let sleepUntil: Int64?
    public let callUrl: String?
    public let callMethod: String?
    public let callBody: Value?
    public let callHeaders: Value?
    public let waitEventId: String?
    /// The wait timeout as a duration text (`"7d"`).
    public let timeout: String?
    /// Whether a wait ended by its deadline rather than by a notify.
    public let waitTimeout: Bool?

    /// Reads step JSON; `stepId`, `stepName` and `stepType` are required, other known members
    /// must have their documented types when present and not `null`.
    public init(bytes: [UInt8]) throws(ProtocolError) {
        let map = try WireJSON.object(try WireJSON.parse(bytes, what: "the step JSON"), what: "the step JSON")
        guard let stepId = try map.integer("stepId") else { throw ProtocolError("'stepId' is missing") }
        guard let stepName = try map.string("stepName") else { throw ProtocolError("'stepName' is missing") }
        guard let stepType = try map.string("stepType") else { throw ProtocolError("'stepType' is missing") }
        self.bytes = bytes
        object = map
        self.stepId = stepId
        self.stepName = stepName
        self.stepType = stepType
        concurrent = try map.integer("concurrent")
        targetStep = try map.integer("targetStep")
        out = try map.string("out")
        sleepFor = map[.string("sleepFor")].flatMap { $0 == .null ? nil : $0 }
        sleepUntil = try map.integer("sleepUntil")
        callUrl = try map.string("callUrl")
        callMethod = try map.string("callMethod")
        callBody = map[.string("callBody")]
        callHeaders = map[.string("callHeaders")]
        waitEventId = try map.string("waitEventId")
        timeout = try map.string("timeout")
        waitTimeout = try map.boolean("waitTimeout")
    }

    /// Step JSON authored by the server (wait, webhook and invoke results), serialized compactly.
    public init(object: ValueMap) throws(ProtocolError) {
        try self.init(bytes: WireJSON.bytes(.map(object)))
    }

    /// Whether this is a plan step of a parallel group rather than a result.
    public var isPlan: Bool { stepId == 0 && targetStep != nil }

    /// The decoded `out` for this step's type; `nil` when the step has none.
    public func output() throws(ProtocolError) -> StepOutput? {
        try out.map { (text) throws(ProtocolError) in try StepOutput(out: text, stepType: stepType) }
    }

    /// This step with `out` (and the extra members) set: how the server turns the `step` of a wait
    /// or invoke request into the result step it appends (§6.3, §6.5). Members keep their order;
    /// new ones go last.
    public func resolved(with output: StepOutput?, extra: [(String, Value)] = []) throws(ProtocolError) -> StepJSON {
        var members = object
        for (key, value) in extra { members[.string(key)] = value }
        members[.string("out")] = output.map { .string($0.outText) }
        return try StepJSON(object: members)
    }

    /// The result step of a wait that ended, by a notify (`eventBody`) or by its deadline (`nil`).
    public func waitResolved(eventId: String, timeout: String, eventBody: [UInt8]?) throws(ProtocolError) -> StepJSON {
        try resolved(
            with: eventBody.map(StepOutput.event),
            extra: [("waitEventId", .string(eventId)), ("timeout", .string(timeout)), ("waitTimeout", .bool(eventBody == nil))]
        )
    }

    /// The step as Stepwise's journal entry (`out` parsed as JSON); reuses the runtime's reader.
    public func journalEntry() throws(ProtocolError) -> JournalEntry {
        do {
            return try JournalEntry(json: .map(object))
        } catch {
            throw ProtocolError(error.message)
        }
    }

    /// The step JSON of a journal entry, written by the runtime's writer.
    public init(entry: JournalEntry) throws(ProtocolError) {
        try self.init(bytes: WireJSON.bytes(entry.json))
    }
}
