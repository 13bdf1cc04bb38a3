import StepwiseProtocol

/// What QStash's message APIs filter plain messages by (the message log, the DLQ, a bulk
/// cancel): destination URL, its host and path, URL group, queue, schedule, label, flow-control
/// key and the address of the client that published it, each a list of values of which a
/// message must match one (Upstash's multi-value filters); an empty list takes any. A message
/// matches a label when it is one of those its `Upstash-Label` names.
public struct MessageMatch: Sendable, Equatable {
    /// Destination URLs, exactly.
    public var urls: [String] = []
    /// URL groups the messages were published to.
    public var urlGroups: [String] = []
    /// QStash queues they were enqueued to.
    public var queues: [String] = []
    /// QStash schedules whose ticks queued them.
    public var scheduleIds: [String] = []
    /// Labels, any of a message's (`Upstash-Label: a,b` gives it two).
    public var labels: [String] = []
    /// Hosts of the destination as `Destination.host(of:)` gives them (ASCII letters lowercased).
    public var hosts: [String] = []
    /// Paths of the destination (`Destination.path(of:)`), exactly.
    public var paths: [String] = []
    /// `Upstash-Flow-Control-Key`s.
    public var flowControlKeys: [String] = []
    /// IP addresses of the clients that published them.
    public var callerIps: [String] = []

    /// A match of every message.
    public init() {}

    /// The lists as the stores bind them, in the order url, URL group, queue, schedule, label,
    /// host, path, flow-control key, caller: each a JSON array, or `nil` when empty (no condition).
    public func boundLists() throws -> [String?] {
        try [urls, urlGroups, queues, scheduleIds, labels, hosts, paths, flowControlKeys, callerIps].map(StoredJSON.list)
    }

    /// Whether `message` matches.
    func matches(_ message: QueuedMessage) -> Bool {
        Self.takes(urls, message.destination) && Self.takes(urlGroups, message.urlGroup) && Self.takes(queues, message.queue)
            && Self.takes(scheduleIds, message.scheduleId)
            && (labels.isEmpty || CommaList.items(message.label ?? "").contains { Self.takes(labels, $0) })
            && Self.takes(hosts, Destination.host(of: message.destination)) && Self.takes(paths, Destination.path(of: message.destination))
            && Self.takes(flowControlKeys, message.flowControlKey) && Self.takes(callerIps, message.callerIp)
    }

    /// Whether `values` is empty or holds `value`, compared by Unicode scalars as the stores' SQL
    /// compares (not by Swift's canonical equivalence), so a cancel takes what a listing shows.
    /// `value` is read only when there are values: a host or path is parsed only when asked for.
    private static func takes(_ values: [String], _ value: @autoclosure () -> String?) -> Bool {
        guard !values.isEmpty else { return true }
        guard let value = value() else { return false }
        return values.contains { $0.unicodeScalars.elementsEqual(value.unicodeScalars) }
    }
}
