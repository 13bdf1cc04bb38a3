/// QStash's URL groups over the store, timed by the engine's clock.
extension WorkflowEngine {
    /// Adds `endpoints` to URL group `name`, creating it.
    public func addURLGroupEndpoints(_ endpoints: [URLGroupEndpoint], to name: String) async throws {
        try await store.addURLGroupEndpoints(endpoints, to: name, at: clock())
    }

    /// Removes endpoints of URL group `name` by URL or name; false when there is no such group.
    public func removeURLGroupEndpoints(urls: [String], names: [String], from name: String) async throws -> Bool {
        try await store.removeURLGroupEndpoints(urls: urls, names: names, from: name, at: clock())
    }
}
