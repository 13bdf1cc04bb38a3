/// The set of program counters alive at one text position, in priority order.
///
/// A sparse set: membership, insertion and clearing are O(1), and each counter appears at most
/// once, which is what keeps the Pike VM linear.
struct RegexThreadList {
    private var counters: [Int]
    /// Where the match attempt that reached each counter began, aligned with `counters`.
    private var starts: [Int]
    /// `slots[pc]` is pc's index in `counters` if pc is a member; stale values are harmless.
    private var slots: [Int]
    private(set) var count = 0

    /// A list able to hold every counter of a program with `capacity` instructions.
    init(capacity: Int) {
        counters = Array(repeating: 0, count: capacity)
        starts = Array(repeating: 0, count: capacity)
        slots = Array(repeating: 0, count: capacity)
    }

    func contains(_ counter: Int) -> Bool {
        let slot = slots[counter]
        return slot < count && counters[slot] == counter
    }

    /// Adds `counter` at the lowest priority; the caller checks `contains` first.
    mutating func insert(_ counter: Int, start: Int) {
        slots[counter] = count
        counters[count] = counter
        starts[count] = start
        count += 1
    }

    func counter(at index: Int) -> Int {
        counters[index]
    }

    func start(at index: Int) -> Int {
        starts[index]
    }

    mutating func removeAll() {
        count = 0
    }
}
