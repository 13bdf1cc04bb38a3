import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The QStash API calls a workflow endpoint makes (§4.6, §6.3, §6.6): publish steps, register
/// waits, notify events, end runs. Any orchestrator speaking the protocol serves them.
public struct QStashClient: Sendable {
    let connection: OrchestratorConnection
    let http: any HTTPTransport
    /// How long one API call may take.
    let timeout: DurationValue

    /// A client of `connection` sending through `http`.
    public init(connection: OrchestratorConnection, http: any HTTPTransport, timeout: DurationValue = .seconds(30)) {
        self.connection = connection
        self.http = http
        self.timeout = timeout
    }

    /// `POST /v2/batch`: every message or none is accepted.
    func batch(_ messages: [OutgoingMessage]) async throws(OrchestratorFailure) {
        _ = try await send("POST", "/v2/batch", body: OutgoingMessage.batchBody(messages), headers: [("Content-Type", "application/json")])
    }

    /// `POST /v2/publish/{destination}`.
    func publish(_ message: OutgoingMessage) async throws(OrchestratorFailure) {
        _ = try await send("POST", "/v2/publish/" + message.destination, body: message.body ?? [], headers: message.headers.fields)
    }

    /// `POST /v2/wait/{eventId}`: park the run until the event or the timeout.
    func wait(eventId: String, body: [UInt8], headers: HeaderFields) async throws(OrchestratorFailure) {
        _ = try await send("POST", "/v2/wait/" + PathSegment.escaped(eventId), body: body, headers: headers.fields)
    }

    /// `POST /v2/notify/{eventId}`: the ids of the runs woken.
    func notify(eventId: String, data: Value) async throws(OrchestratorFailure) -> [String] {
        let answer = try await send(
            "POST", "/v2/notify/" + PathSegment.escaped(eventId), body: Array(data.jsonText().utf8), headers: [("Content-Type", "application/json")])
        guard case .list(let waiters)? = try? Value(json: String(decoding: answer, as: UTF8.self)) else { return [] }
        return waiters.compactMap { waiter in
            guard case .map(let fields) = waiter, case .string(let runId)? = fields[.string("workflowRunId")] else { return nil }
            return runId
        }
    }

    /// `GET /v2/workflows/runs/{id}`: the run's log (lazy fetch, §4.4); `nil` when the
    /// orchestrator no longer has it.
    func log(_ runId: String) async throws(OrchestratorFailure) -> RawStepArray? {
        let body: [UInt8]
        do {
            body = try await send("GET", "/v2/workflows/runs/\(PathSegment.escaped(runId))", body: [], headers: [])
        } catch where error.status == 404 {
            return nil
        }
        do {
            return try RawStepArray(jsonBytes: body)
        } catch {
            throw OrchestratorFailure(status: nil, message: "the log of run \(runId) cannot be read: \(error.message)")
        }
    }

    /// `DELETE /v2/workflows/runs/{id}`: the run ended with `output` (`cancel == false`), or
    /// canceled itself (`output` is then `{"reason"}`, Stepwise's extension, or nothing).
    func endRun(_ runId: String, cancel: Bool, output: Value?) async throws(OrchestratorFailure) {
        let body = output.map { Array($0.jsonText().utf8) } ?? []
        _ = try await send(
            "DELETE", "/v2/workflows/runs/\(PathSegment.escaped(runId))?cancel=\(cancel)", body: body,
            headers: body.isEmpty ? [] : [("Content-Type", "application/json")])
    }

    /// `POST /v2/schedules/{destination}`: creates or replaces the schedule named in `headers`.
    func createSchedule(destination: String, headers: HeaderFields, body: [UInt8]) async throws(OrchestratorFailure) {
        _ = try await send("POST", "/v2/schedules/" + destination, body: body, headers: headers.fields)
    }

    /// `GET /v2/schedules`: the id and destination of every schedule.
    func schedules() async throws(OrchestratorFailure) -> [(id: String, destination: String)] {
        let answer = try await send("GET", "/v2/schedules", body: [], headers: [])
        guard case .list(let items)? = try? Value(json: String(decoding: answer, as: UTF8.self)) else {
            throw OrchestratorFailure(status: nil, message: "GET /v2/schedules did not answer a JSON array")
        }
        return items.compactMap { item in
            guard case .string(let id)? = item["scheduleId"], case .string(let destination)? = item["destination"] else { return nil }
            return (id, destination)
        }
    }

    /// `DELETE /v2/schedules/{id}`.
    func deleteSchedule(_ id: String) async throws(OrchestratorFailure) {
        _ = try await send("DELETE", "/v2/schedules/" + PathSegment.escaped(id), body: [], headers: [])
    }

    private func send(_ method: String, _ path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws(
        OrchestratorFailure
    ) -> [UInt8] {
        let request = OutgoingRequest(
            method: method, url: connection.url + path, headers: [("Authorization", "Bearer \(connection.token)")] + headers,
            body: body.isEmpty ? nil : body, timeout: timeout)
        let response: IncomingResponse
        do {
            response = try await http.send(request)
        } catch {
            throw OrchestratorFailure(status: nil, message: "\(method) \(Self.route(path)) could not reach QStash at \(connection.shownURL): \(error.message)")
        }
        guard (200..<300).contains(response.status) else {
            let detail = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw OrchestratorFailure(status: response.status, message: "\(method) \(Self.route(path)) answered \(response.status): \(detail)")
        }
        return response.body
    }

    /// The path without its query, for messages.
    private static func route(_ path: String) -> Substring { path.split(separator: "?", maxSplits: 1).first ?? "" }
}
