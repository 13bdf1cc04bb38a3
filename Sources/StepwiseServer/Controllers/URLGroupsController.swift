import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's URL groups (topics) as the official `qstash` clients call them: add and remove
/// endpoints, read and list groups, delete one. A message published to a group's name goes to
/// each endpoint (`PublishingController`).
struct URLGroupsController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let topics = router.group("v2/topics")
        topics.get { _, _ in await list() }
        topics.get(":name") { _, context in await group(context.decoded("name") ?? "") }
        topics.delete(":name") { _, context in await delete(context.decoded("name") ?? "") }
        topics.post(":name/endpoints") { request, context in await addEndpoints(request, context.decoded("name") ?? "") }
        topics.delete(":name/endpoints") { request, context in await removeEndpoints(request, context.decoded("name") ?? "") }
    }

    /// `{"endpoints": [{"url", "name"?}]}`: each URL http(s), at least one endpoint.
    private func addEndpoints(_ request: Request, _ name: String) async -> Response {
        let endpoints: [URLGroupEndpoint]
        switch await Self.endpoints(request, name) {
        case .failure(let refusal): return refusal.response
        case .success(let read): endpoints = read
        }
        do throws(ProtocolError) {
            for endpoint in endpoints {
                guard !endpoint.url.isEmpty else { throw ProtocolError("every endpoint needs a 'url'") }
                try Destination.validate(endpoint.url)
            }
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            try await engine.addURLGroupEndpoints(endpoints, to: name)
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot add endpoints to URL group '\(name)'", error)
        }
    }

    /// `{"endpoints": [{"url"?, "name"?}]}`: each with a URL or a name.
    private func removeEndpoints(_ request: Request, _ name: String) async -> Response {
        let endpoints: [URLGroupEndpoint]
        switch await Self.endpoints(request, name) {
        case .failure(let refusal): return refusal.response
        case .success(let read): endpoints = read
        }
        guard endpoints.allSatisfy({ !$0.url.isEmpty || $0.name != nil }) else {
            return JSONResponse.error(.badRequest, "every endpoint to remove needs a 'url' or a 'name'")
        }
        do {
            let urls = endpoints.map(\.url).filter { !$0.isEmpty }
            guard try await engine.removeURLGroupEndpoints(urls: urls, names: endpoints.compactMap(\.name), from: name) else { return Self.noGroup(name) }
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot remove endpoints of URL group '\(name)'", error)
        }
    }

    /// The endpoints of a request's body, for a valid group name; a missing `url` reads as "".
    private static func endpoints(_ request: Request, _ name: String) async -> Result<[URLGroupEndpoint], ErrorAnswer> {
        do throws(ProtocolError) {
            _ = try QStashName.validatedNew(name, as: "URL group")
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        guard case .list(let items)? = body["endpoints"], !items.isEmpty else {
            return .failure(ErrorAnswer(.badRequest, "the body needs 'endpoints', a non-empty list of {\"url\", \"name\"}"))
        }
        var endpoints: [URLGroupEndpoint] = []
        for (index, item) in items.enumerated() {
            guard case .map = item, let url = Self.optionalText(item["url"]), let endpointName = Self.optionalText(item["name"]) else {
                return .failure(ErrorAnswer(.badRequest, "endpoint \(index) must be an object with a string 'url' and an optional string 'name'"))
            }
            endpoints.append(URLGroupEndpoint(url: url ?? "", name: endpointName))
        }
        return .success(endpoints)
    }

    /// A member that is absent, null or text: `.some(nil)` or `.some(text)`; `nil` for anything else.
    private static func optionalText(_ value: Value?) -> String?? {
        switch value {
        case nil, .null?: .some(nil)
        case .string(let text)?: .some(text)
        default: nil
        }
    }

    private func list() async -> Response {
        do {
            return JSONResponse.make(.ok, .list(try await engine.store.urlGroups().map(Self.view)))
        } catch {
            return failures.answer("cannot list the URL groups", error)
        }
    }

    private func group(_ name: String) async -> Response {
        do {
            guard let group = try await engine.store.urlGroup(name) else { return Self.noGroup(name) }
            return JSONResponse.make(.ok, Self.view(group))
        } catch {
            return failures.answer("cannot read URL group '\(name)'", error)
        }
    }

    private func delete(_ name: String) async -> Response {
        do {
            guard try await engine.store.deleteURLGroup(name) else { return Self.noGroup(name) }
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot delete URL group '\(name)'", error)
        }
    }

    private static func noGroup(_ name: String) -> Response {
        JSONResponse.error(.notFound, "no URL group named '\(name)'")
    }

    /// A group as QStash reports it; times in milliseconds since the epoch.
    static func view(_ group: URLGroup) -> Value {
        [
            "name": .string(group.name), "createdAt": .int(group.createdAt), "updatedAt": .int(group.updatedAt),
            "endpoints": .list(group.endpoints.map { endpoint in
                endpoint.name.map { ["url": .string(endpoint.url), "name": .string($0)] } ?? ["url": .string(endpoint.url)]
            }),
        ]
    }
}
