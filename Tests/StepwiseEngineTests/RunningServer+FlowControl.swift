import StepwiseExpressions
import StepwiseTesting

/// Publishing under flow control and reading a key's report, for the suites of flow control and queues.
extension RunningServer {
    /// Publishes `count` plain messages to `destination` in one batch under the flow control
    /// `key` and `value`; the answer's status.
    func publish(_ count: Int, to destination: String, key: String, value: String) async throws -> Int {
        let items = (0..<count).map { index in
            [
                "destination": Value.string(destination), "body": .string(#"{"n":\#(index)}"#),
                "headers": ["Upstash-Flow-Control-Key": .string(key), "Upstash-Flow-Control-Value": .string(value)],
            ] as Value
        }
        return try await send(.POST, url("/v2/batch"), body: Value.list(items).jsonText()).status
    }

    /// What `GET /v2/flowControl/{key}` answers; `nil` unless 200.
    func flowKey(_ key: String) async throws -> Value? {
        let answer = try await send(.GET, url("/v2/flowControl/\(key)"))
        return answer.status == 200 ? answer.json : nil
    }
}
