/// Random hex digits for ids (runs, messages): drawn from the system's generator (`getrandom`
/// on Linux), which needs no file descriptor. Foundation's `UUID()` reads `/dev/urandom` there
/// and gives all zeros when no descriptor is left, which made acknowledged runs share one id.
public enum RandomHex {
    /// `count` lowercase hex digits (`count` a multiple of 16).
    public static func digits(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<(count / 16)).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
    }
}
