/// Pages of a listing read with one row more than they hold: the extra row tells whether another
/// page follows, so no count is needed.
enum PagedRows {
    /// Up to `limit` items from `fetch` (asked for one more), and the page's last item when
    /// another page follows.
    static func page<Item>(limit: Int, _ fetch: (Int) throws -> [Item]) rethrows -> (items: [Item], last: Item?) {
        var items = try fetch(limit + 1)
        guard items.count > limit else { return (items, nil) }
        items.removeLast()
        return (items, items.last)
    }
}
