extension RunFilter {
    /// How a store lists runs by `labels` from `run_labels`: SQL both stores share, `jsonValues`
    /// being the store's query of the values of one bound JSON array.
    public struct LabelQuery: Sendable {
        /// The rows to select `runs.*` from.
        public let source: String
        /// Their order: newest first, ties by id.
        public let order: String
        /// The column of the start time the dates and the cursor compare, on the table the order
        /// walks, so a later page seeks to where the previous one ended.
        public let time: String
        /// The column of the run id the cursor compares, on the same table.
        public let id: String
        /// The condition on labels with its argument; `nil` without labels.
        public let condition: (sql: String, argument: String)?
    }

    /// The query of `labels`. One label is walked newest first in `run_labels_by_label`, the page
    /// ending the walk; several are looked up, then sorted.
    public func labelQuery(jsonValues: String) throws -> LabelQuery {
        switch labels.count {
        case 0:
            return LabelQuery(source: "runs", order: "runs.created_at DESC, runs.id", time: "runs.created_at", id: "runs.id", condition: nil)
        case 1:
            return LabelQuery(
                source: "run_labels JOIN runs ON runs.id = run_labels.run_id", order: "run_labels.created_at DESC, run_labels.run_id",
                time: "run_labels.created_at", id: "run_labels.run_id", condition: ("run_labels.label = ?", labels[0]))
        default:
            return LabelQuery(
                source: "runs", order: "runs.created_at DESC, runs.id", time: "runs.created_at", id: "runs.id",
                condition: ("runs.id IN (SELECT run_id FROM run_labels WHERE label IN (\(jsonValues)))", try StoredJSON.text(labels)))
        }
    }
}
