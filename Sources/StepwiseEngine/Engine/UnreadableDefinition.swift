/// A stored definition this node's language does not accept (or that hashes differently here).
struct UnreadableDefinition: Error, CustomStringConvertible {
    let hash: String
    let workflow: String

    var description: String { "version \(hash) of workflow '\(workflow)' is stored but does not validate on this node" }
}
