import StepwiseExpressions
import StepwiseRuntime

/// The JSON body of an endpoint's error answer (§4.7): `{"error": type, "message", "stack"?}` as
/// the SDKs write it, plus Stepwise's `step` and `status` of the failing step. A 489 with this body
/// is the endpoint's verdict on the run; a failure callback carries it (base64) in `body`.
public struct EndpointErrorBody: Sendable, Equatable {
    /// Why the run or the delivery failed.
    public var error: StepError

    /// The body of `error`.
    public init(_ error: StepError) {
        self.error = error
    }

    /// The JSON object.
    public var json: Value {
        var map = ValueMap([("error", .string(error.type)), ("message", .string(error.message))])
        map.setIfPresent("step", error.step.map(Value.string))
        map.setIfPresent("status", error.status.map { .int(Int64($0)) })
        return .map(map)
    }

    /// The JSON bytes.
    public var jsonBytes: [UInt8] { WireJSON.bytes(json) }

    /// Reads an answer's body; `nil` when it is not such an object (no string `message`). A
    /// missing `error` reads as `fallbackType`.
    public init?(bytes: [UInt8], fallbackType: String = "EndpointError") {
        guard let map = try? WireJSON.object(try WireJSON.parse(bytes, what: "the answer"), what: "the answer"),
            let message = (try? map.string("message")) ?? nil
        else { return nil }
        error = StepError(
            message: message, type: ((try? map.string("error")) ?? nil) ?? fallbackType, step: (try? map.string("step")) ?? nil,
            status: ((try? map.integer("status")) ?? nil).map { Int($0) })
    }
}
