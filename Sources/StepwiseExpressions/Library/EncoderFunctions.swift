/// CEL's encoders extension: `base64.encode(bytes)` and `base64.decode(string)`.
enum EncoderFunctions {
    static let functions: [LibraryFunction] = [
        LibraryFunction("base64.encode", .global, arguments: 1...1) { call throws(EvaluationError) in
            guard case .bytes(let bytes) = call[0] else { throw call.noOverload }
            return .string(Base64.encode(bytes))
        },
        LibraryFunction("base64.decode", .global, arguments: 1...1) { call throws(EvaluationError) in
            let text = try call.string(call[0])
            guard let bytes = Base64.decode(text) else { throw EvaluationError("base64.decode(): '\(text)' is not valid base64") }
            return .bytes(bytes)
        },
    ]
}
