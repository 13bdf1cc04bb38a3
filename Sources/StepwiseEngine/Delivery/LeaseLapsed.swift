/// A delivery given up because its lease was about to lapse unrenewed (`LeaseGuard`): what it did
/// is not committed, and whichever node claims it next delivers it again.
struct LeaseLapsed: Error, CustomStringConvertible {
    var description: String {
        "the delivery's lease lapsed while the store could not be reached: its outcome is not committed, and it is delivered again"
    }
}
