/// A duration as QStash headers write it: `<n><unit>` groups such as `30s`, `10m`, `1d10h30m`
/// (units `ms s m h d`), and for some headers a bare number of seconds (`Upstash-Timeout: 30`).
public struct WireDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in milliseconds.
    public let milliseconds: Int64

    /// A duration of `milliseconds`.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// A duration of whole `seconds`, saturating instead of overflowing.
    public static func seconds(_ seconds: Int64) -> WireDuration {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        return WireDuration(milliseconds: overflow ? .max : product)
    }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Reads `text`; `bareSeconds` also accepts a plain integer as seconds. Errors say what is
    /// expected; a value that overflows 64-bit milliseconds is an error too.
    public init(parsing text: String, bareSeconds: Bool) throws(ProtocolError) {
        let expected = bareSeconds ? "seconds or a duration like 30s, 10m, 1d10h30m" : "a duration like 30s, 10m, 1d10h30m"
        let bytes = Array(text.utf8)
        if bareSeconds, !bytes.isEmpty, bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            guard let seconds = Int64(text) else { throw ProtocolError("'\(text)' is too large") }
            self = .seconds(seconds)
            return
        }
        var total: Int64 = 0
        var index = 0
        guard !bytes.isEmpty else { throw ProtocolError("empty value, expected \(expected)") }
        while index < bytes.count {
            let digitsStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digitsStart, let count = Int64(String(decoding: bytes[digitsStart..<index], as: UTF8.self)) else {
                throw ProtocolError("'\(text)' is not \(expected)")
            }
            let unitStart = index
            while index < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[index]) { index += 1 }
            let unit = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            guard let scale = Self.units.first(where: { $0.suffix == unit })?.milliseconds else {
                throw ProtocolError("'\(text)' is not \(expected)")
            }
            let (part, overflow) = count.multipliedReportingOverflow(by: scale)
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            guard !overflow, !sumOverflow else { throw ProtocolError("'\(text)' is too large") }
            total = sum
        }
        milliseconds = total
    }

    /// The shortest `<n><unit>` text for this duration (`90s` → `1m30s`), `0s` for zero.
    public var description: String {
        guard milliseconds > 0 else { return "0s" }
        var rest = milliseconds
        var text = ""
        for (suffix, scale) in Self.units.reversed() where rest >= scale {
            text += "\(rest / scale)\(suffix)"
            rest %= scale
        }
        return text
    }

    public static func < (lhs: WireDuration, rhs: WireDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }
}
