/// What a reload of the served workflows changed, by workflow name (`WorkflowEngine.reload`, a
/// runner's `WorkflowEndpoint.reload`).
public struct WorkflowReload: Sendable, Equatable, CustomStringConvertible {
    /// Workflows served now that were not before.
    public let added: [String]
    /// Workflows served before and now, in another version.
    public let changed: [String]
    /// Workflows no longer served: they start no more runs; those running finish.
    public let removed: [String]
    /// How many workflows are served as they were.
    public let unchanged: Int

    /// The change from the workflows served `before` to those served `after`, by name.
    public init(before: [String: WorkflowDefinition], after: [String: WorkflowDefinition]) {
        added = after.keys.filter { before[$0] == nil }.sorted()
        changed = after.compactMap { name, definition in before[name].flatMap { $0.hash == definition.hash ? nil : name } }.sorted()
        removed = before.keys.filter { after[$0] == nil }.sorted()
        unchanged = after.count - added.count - changed.count
    }

    /// `added a, b; changed c; removed d; 3 unchanged`, naming only what moved.
    public var description: String {
        let parts = [("added", added), ("changed", changed), ("removed", removed)].filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }
        return (parts + ["\(unchanged) unchanged"]).joined(separator: "; ")
    }
}
