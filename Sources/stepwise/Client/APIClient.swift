import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// A small client of a running `stepwise serve`, for the CLI's client commands.
struct APIClient {
    let server: String
    /// Sent as `Authorization: Bearer <token>` when there is one.
    let token: AccessToken?

    /// `HTTPClient.shared`'s settings, except that a refused connection fails the request at once:
    /// the shared client retries it until the request's deadline, so a server that is not running
    /// was reported only after 30 s.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The failure to reach the server, its cause in words (never the request's headers, which
    /// hold the token).
    private func unreachable(_ error: any Error) -> CommandFailure {
        // A password in the URL's userinfo is never printed (nor sent: the token is the credential).
        .unreachable(
            "cannot reach the Stepwise server at \(OutgoingRequest.withoutUserInfo(server)): \(TransportErrorText.describe(error)) (is `stepwise serve` running?)")
    }

    /// Sends a request and returns the status and the JSON body (`null` when empty).
    func send(_ method: HTTPMethod, _ path: String, body: Value? = nil, headers: [(String, String)] = []) async throws -> (status: Int, body: Value) {
        var request = HTTPClientRequest(url: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token.value)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText()))
        }
        let response: HTTPClientResponse
        do {
            response = try await Self.http.execute(request, timeout: .seconds(30))
        } catch {
            throw unreachable(error)
        }
        let text = String(buffer: try await response.body.collect(upTo: 64 << 20))
        let value = text.allSatisfy(\.isWhitespace) ? Value.null : ((try? Value(json: text)) ?? .string(text))
        return (Int(response.status.code), value)
    }

    /// Reads the Server-Sent Events of `path`, handing each (`event:` name, `data:` JSON) to
    /// `handle` until it returns false or the server ends the stream.
    func events(_ path: String, _ handle: (_ name: String, _ data: Value) async throws -> Bool) async throws {
        var request = HTTPClientRequest(url: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token.value)") }
        let response: HTTPClientResponse
        do {
            response = try await Self.http.execute(request, timeout: .hours(24))
        } catch {
            throw unreachable(error)
        }
        guard response.status == .ok else {
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            throw CommandFailure.failed("server answered \(response.status.code): \((try? Value(json: text))?["error"]?.stringText ?? text)")
        }
        var parser = ServerSentEventParser()
        var body = response.body.makeAsyncIterator()
        while true {
            let buffer: ByteBuffer?
            do {
                buffer = try await body.next()
            } catch {
                // The connection broke mid-stream (the server was killed, a proxy dropped it):
                // the server is gone for now, as when it cannot be reached.
                throw unreachable(error)
            }
            guard let buffer else { return }
            for event in parser.feed(buffer.readableBytesView) {
                guard try await handle(event.name, (try? Value(json: event.data)) ?? .null) else { return }
            }
        }
    }

    /// Up to `limit` items of the paged listing at `path` (its `filters` as query parameters),
    /// fetched a page of at most `pageSize` at a time (asked with `sizeParameter`), following
    /// each answer's `cursor`; the items are the answer's `key`.
    func listing(_ path: String, filters: [String], key: String, limit: Int, pageSize: Int, sizeParameter: String) async throws -> [Value] {
        var items: [Value] = []
        var cursor: String?
        repeat {
            let query = filters + ["\(sizeParameter)=\(min(pageSize, limit - items.count))"] + (cursor.map { ["cursor=\($0)"] } ?? [])
            let answer = try await expectSuccess(.GET, path + "?" + query.joined(separator: "&"))
            items += answer[key]?.listItems ?? []
            cursor = answer["cursor"]?.stringText.flatMap { $0.isEmpty ? nil : $0 }
        } while cursor != nil && items.count < limit
        return items
    }

    /// Sends a request and fails with the server's message unless the status is 2xx.
    func expectSuccess(_ method: HTTPMethod, _ path: String, body: Value? = nil, headers: [(String, String)] = []) async throws -> Value {
        let (status, value) = try await send(method, path, body: body, headers: headers)
        guard (200..<300).contains(status) else {
            var message = value["error"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? (value == .null ? "an answer without a body" : value.jsonText())
            // Upstash-style answers (a runner's) give the error's type and a message for people.
            if let detail = value["message"]?.stringText, detail != message { message += ": " + detail }
            if case .list(let problems)? = value["problems"] {
                message += ":\n" + problems.map { "  - " + ($0.stringText ?? $0.jsonText()) }.joined(separator: "\n")
            }
            throw CommandFailure.failed("server answered \(status): \(message)")
        }
        return value
    }

    /// The path of run `id` (`GET /api/runs/{id}`), the id escaped as one path segment whatever
    /// it holds.
    static func runPath(_ id: String) -> String {
        "/api/runs/" + PathSegment.escaped(id)
    }

    /// Run `id` as the server shows it (`GET /api/runs/{id}`).
    func run(_ id: String) async throws -> Value {
        try await expectSuccess(.GET, Self.runPath(id))
    }
}

/// The `--server` option shared by client commands.
struct ServerOption: ParsableArguments {
    @Option(name: .long, help: "The Stepwise server.")
    var server = ProcessInfo.processInfo.environment["STEPWISE_SERVER"] ?? "http://127.0.0.1:8080"

    @Option(name: .long, help: "The server's API token (default: $STEPWISE_TOKEN, else .stepwise/token).")
    var token: String?

    var client: APIClient { APIClient(server: server, token: AccessToken.forClient(explicit: token)) }

    /// Refuses a server URL that no request could go to (the HTTP client would trap on a port
    /// past 65535 written with an IP address), naming the problem.
    func validate() throws {
        try AccessToken.checkGiven(explicit: token)
        try AccessToken.checkFile(explicit: token)
        // The value may come from $STEPWISE_SERVER rather than the command line: name both.
        guard let url = URL(string: server), OutgoingRequest.isRequestable(url) else {
            throw ValidationError(
                "the server URL '\(OutgoingRequest.withoutUserInfo(server))' (--server, $STEPWISE_SERVER) is not an http(s) URL like http://127.0.0.1:8080")
        }
        if let problem = OutgoingRequest.authorityProblem(url) {
            throw ValidationError("the server URL '\(OutgoingRequest.withoutUserInfo(server))' (--server, $STEPWISE_SERVER) cannot be used: \(problem)")
        }
    }
}

/// Reads `--input` (or another option named by `option`): JSON text, or `@file` holding JSON.
enum InputArgument {
    static func value(_ text: String, option: String = "--input") throws -> Value {
        var json = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure.usage("there is no file '\(path)' (given to \(option))") }
            // A handle, not the file's contents: `@/dev/stdin` is a pipe.
            let unreadable = CommandFailure.usage("cannot read the file '\(path)' given to \(option) (a folder, or not readable by this user?)")
            guard let handle = FileHandle(forReadingAtPath: path) else { throw unreadable }
            let data: Data
            do {
                data = try handle.readToEnd() ?? Data()
            } catch {
                throw unreadable
            }
            guard let contents = String(data: data, encoding: .utf8) else {
                throw CommandFailure.usage("the file '\(path)' given to \(option) is not UTF-8 text, so it holds no JSON")
            }
            json = contents
        }
        do {
            return try Value(valueJSON: json)
        } catch {
            throw CommandFailure.usage("\(option) is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }
}

extension Value {
    var stringText: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The items of a list; empty for anything else.
    var listItems: [Value] {
        if case .list(let items) = self { return items }
        return []
    }

    /// A field as a table cell: the text, `-` when missing or null, else its JSON.
    func text(_ key: String) -> String {
        switch self[key] {
        case nil, .null?: "-"
        case .string(let text)?: text
        case let value?: value.jsonText()
        }
    }
}

import ArgumentParser
