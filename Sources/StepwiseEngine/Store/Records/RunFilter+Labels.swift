extension RunFilter {
    /// How a store lists runs by `labels` from `run_labels` (SQL both stores share, `jsonValues`
    /// being the store's query of the values of one bound JSON array): the rows to select
    /// `runs.*` from, their order, and the condition with its argument (`nil` without labels).
    /// One label is walked newest first in `run_labels_by_label`, the page ending the walk;
    /// several are looked up, then sorted.
    public func labelQuery(jsonValues: String) throws -> (source: String, order: String, condition: (sql: String, argument: String)?) {
        switch labels.count {
        case 0:
            return ("runs", "runs.created_at DESC, runs.id", nil)
        case 1:
            return ("run_labels JOIN runs ON runs.id = run_labels.run_id", "run_labels.created_at DESC, run_labels.run_id", ("run_labels.label = ?", labels[0]))
        default:
            let condition = "runs.id IN (SELECT run_id FROM run_labels WHERE label IN (\(jsonValues)))"
            return ("runs", "runs.created_at DESC, runs.id", (condition, try StoredJSON.text(labels)))
        }
    }
}
