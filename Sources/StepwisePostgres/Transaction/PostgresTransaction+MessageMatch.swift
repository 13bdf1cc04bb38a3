extension PostgresTransaction {
    /// The conditions of a `MessageMatch` on a row of the message log or DLQ, bound as
    /// `boundLists()` each twice (NULL: no condition): a column among the list's values, a label
    /// among those the row's label names (stored comma-separated, `CommaList`), or the host or
    /// path of its URL by `Destination`'s rule (`urlHost`, `urlPath`).
    static let messageMatch = """
        (CAST(? AS TEXT) IS NULL OR url IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR url_group IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR queue_name IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR schedule_id IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST(? AS JSONB)) AS wanted(value)
                WHERE strpos(',' || label || ',', ',' || wanted.value || ',') > 0))
            AND (CAST(? AS TEXT) IS NULL OR \(urlHost) IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR \(urlPath) IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR flow_key IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
            AND (CAST(? AS TEXT) IS NULL OR caller_ip IN (SELECT jsonb_array_elements_text(CAST(? AS JSONB))))
        """

    /// `Destination.host(of: url)` in SQL: after `://`, past the last `@` of the authority, a
    /// bracketed IPv6 address up to its first `]`, or else the text up to a port, its ASCII
    /// letters lowercased. PostgreSQL takes the longest match of the alternatives, so only the
    /// first may start with `[` and end with `]`, and none may hold an `@` (the user information
    /// then always ends at the last).
    static let urlHost = #"""
        translate(substring(url from '^[^:]*://(?:[^/?#]*@)?(\[[^]/?#@]*\]|[^[/?#:@][^/?#:@]*|\[[^]/?#:@]*|)'),
            'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
        """#

    /// `Destination.path(of: url)` in SQL: what follows the authority up to a query or fragment,
    /// `/` when nothing does.
    static let urlPath = #"COALESCE(NULLIF(substring(url from '^[^:]*://[^/?#]*([^?#]*)'), ''), '/')"#
}
