import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The bodies of an SDK run whose trigger said `Upstash-Redact-Fields: body` (its payload, its
/// steps' results, its response), as every API shows them: `REDACTED:<sha256>` of their text, as
/// Upstash redacts per run. Deliveries to the endpoint carry them unchanged.
enum RunBodyRedaction {
    /// `text` as `run`'s APIs show it.
    static func shown(_ text: String, of run: RunRecord) -> Value {
        guard redacts(run) else { return .string(text) }
        return .string(MessageRedaction.redacted(Array(text.utf8)))
    }

    /// `value` as `run`'s APIs show it: as it is, or redacted as its JSON text.
    static func shown(_ value: Value, of run: RunRecord) -> Value {
        guard redacts(run), value != .null else { return value }
        return shown(value.jsonText(), of: run)
    }

    /// A step of `run` (a map with its result as `out`) with its result as `run`'s APIs show it.
    static func shown(out step: Value, of run: RunRecord) -> Value {
        guard redacts(run), case .map(var map) = step, let out = map[.string("out")] else { return step }
        map[.string("out")] = shown(out, of: run)
        return .map(map)
    }

    private static func redacts(_ run: RunRecord) -> Bool {
        run.defaults?.redaction?.body == true
    }
}
