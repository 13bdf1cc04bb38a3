extension PostgresTransaction {
    /// The conditions of a `MessageMatch` on a row of the message log or DLQ, bound as
    /// `boundLists()` each twice (NULL: no condition): a column among the list's values, or a
    /// label among those the row's label names (stored comma-separated, `CommaList`).
    static let messageMatch = """
        (CAST(? AS TEXT) IS NULL OR url IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR url_group IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR queue_name IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR schedule_id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST(? AS JSONB)) AS wanted(value)
                WHERE strpos(',' || label || ',', ',' || wanted.value || ',') > 0))
        """
}
