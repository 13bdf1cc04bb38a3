extension SQLiteTransaction {
    /// The conditions of a `MessageMatch` on a row of the message log or DLQ, bound as
    /// `boundLists()` each twice (NULL: no condition): a column among the list's values, a label
    /// among those the row's label names (stored comma-separated, `CommaList`), or the host or
    /// path of its URL as `Destination` reads them (`DestinationFunctions`).
    static let messageMatch = """
        (CAST(? AS TEXT) IS NULL OR url IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR url_group IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR queue_name IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR schedule_id IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR EXISTS (
                SELECT 1 FROM json_each(?) AS wanted WHERE instr(',' || label || ',', ',' || wanted.value || ',') > 0))
            AND (CAST(? AS TEXT) IS NULL OR \(DestinationFunctions.host.name)(url) IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR \(DestinationFunctions.path.name)(url) IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR flow_key IN (SELECT value FROM json_each(?)))
            AND (CAST(? AS TEXT) IS NULL OR caller_ip IN (SELECT value FROM json_each(?)))
        """
}
