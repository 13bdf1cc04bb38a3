import Foundation
import NIOCore

/// The reverse proxies whose `X-Forwarded-For` Stepwise believes (`stepwise serve --trusted-proxy`):
/// a request whose connection comes from one of them is recorded as its client's (QStash's
/// `callerIp`), the nearest address in the header that is not itself a trusted proxy. Anyone can
/// send the header, so from any other peer it is ignored; it never decides access.
public struct TrustedProxies: Sendable, Equatable {
    /// One range of addresses: its bytes in network order and how many leading bits must match.
    struct Range: Sendable, Equatable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            let whole = prefixLength / 8
            guard address.prefix(whole) == bytes.prefix(whole) else { return false }
            let rest = prefixLength % 8
            guard rest > 0 else { return true }
            let mask = UInt8(0xFF) << (8 - rest)
            return address[whole] & mask == bytes[whole] & mask
        }
    }

    /// Why a range could not be read, naming it.
    public struct InvalidRange: Error, CustomStringConvertible {
        /// The range as given.
        public let text: String
        /// What is wrong, for people.
        public var description: String {
            "'\(text)' is not an IP address or a range of them (CIDR: 10.0.0.0/8, 192.168.1.5, fd00::/8, ::1)"
        }
    }

    let ranges: [Range]

    /// No proxy is trusted: every request is its connection's peer's.
    public init() { ranges = [] }

    /// The proxies in `ranges`, each an address (`10.1.2.3`, `::1`) or a CIDR range (`10.0.0.0/8`).
    public init(_ ranges: [String]) throws(InvalidRange) {
        self.ranges = try ranges.map { text throws(InvalidRange) in try Self.range(text) }
    }

    /// The address a request on a connection from `peer` came from, as `CallerAddress` writes it:
    /// the peer's own, unless it is a trusted proxy, then the nearest hop of `forwardedFor` (the
    /// `X-Forwarded-For` values, each a comma-separated list) that is not; the farthest hop when
    /// all are. A hop that is not an address ends the walk at the hop before it.
    func client(of peer: SocketAddress?, forwardedFor: [String]) -> String? {
        guard let peerText = peer.flatMap(CallerAddress.text(of:)) else { return nil }
        guard !ranges.isEmpty, let peerBytes = Self.bytes(peerText), isTrusted(peerBytes) else { return peerText }
        var client = peerText
        let hops = forwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard let text = Self.address(inHop: hop), let bytes = Self.bytes(text) else { break }
            client = text
            if !isTrusted(bytes) { break }
        }
        return client
    }

    private func isTrusted(_ address: [UInt8]) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    private static func range(_ text: String) throws(InvalidRange) -> Range {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = parts.first else { throw InvalidRange(text: text) }
        // Peers are matched as `CallerAddress` writes them, an IPv4-mapped one as IPv4: so is a
        // mapped range, its prefix less the 96 bits of the mapping.
        let written = CallerAddress.normalized(address)
        guard let bytes = bytes(written) else { throw InvalidRange(text: text) }
        let mappingBits = address.contains(":") && !written.contains(":") ? 96 : 0
        guard parts.count == 2 else { return Range(bytes: bytes, prefixLength: bytes.count * 8) }
        guard let length = Int(parts[1]), (mappingBits...mappingBits + bytes.count * 8).contains(length) else { throw InvalidRange(text: text) }
        return Range(bytes: bytes, prefixLength: length - mappingBits)
    }

    /// The address a hop of `X-Forwarded-For` names, as `CallerAddress` writes it: proxies may add a
    /// port (`203.0.113.7:4711`, `[2001:db8::1]:4711`) or brackets; `nil` for anything else
    /// (`unknown`, an empty hop, text after the brackets that is no port).
    private static func address(inHop hop: String) -> String? {
        var text = Substring(hop)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            guard isPort(text[text.index(after: close)...]) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard isPort(text[colon...]) else { return nil }
            text = text[..<colon]
        }
        guard let address = try? SocketAddress(ipAddress: String(text), port: 0) else { return nil }
        return CallerAddress.text(of: address)
    }

    /// Whether `suffix` is nothing, or `:` and a port number.
    private static func isPort(_ suffix: Substring) -> Bool {
        suffix.isEmpty || (suffix.first == ":" && suffix.count > 1 && suffix.dropFirst().allSatisfy { ("0"..."9").contains($0) })
    }

    /// The bytes of the address `text` names, in network order; `nil` when it names none.
    private static func bytes(_ text: String) -> [UInt8]? {
        switch try? SocketAddress(ipAddress: text, port: 0) {
        case .v4(let address):
            withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
        case .v6(let address):
            withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        default:
            nil
        }
    }
}
