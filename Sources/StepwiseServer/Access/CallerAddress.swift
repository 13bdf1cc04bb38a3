import NIOCore

/// The IP address of a client as Stepwise records and filters it (QStash's `callerIp`): an IPv4
/// client of a dual-stack listener (`::ffff:10.0.0.1`) as plain IPv4, any other address in its
/// one written form (`::1`, not `0:0:0:0:0:0:0:1`) and without a zone (`%eth0`, which depends on
/// a host's interfaces), so a filter matches however it was written, on every node.
enum CallerAddress {
    /// The form of `address`; `nil` for an address that is no IP address (a Unix socket).
    static func text(of address: SocketAddress) -> String? {
        guard let text = address.ipAddress else { return nil }
        let mapped = "::ffff:"
        guard text.lowercased().hasPrefix(mapped), case .v6 = address else { return text }
        let rest = String(text.dropFirst(mapped.count))
        return (try? SocketAddress(ipAddress: rest, port: 0)).flatMap { if case .v4 = $0 { $0.ipAddress } else { nil } } ?? text
    }

    /// The form of `text`, a filter's value: as `text(of:)` writes the address it names, or as
    /// given when it names none.
    static func normalized(_ text: String) -> String {
        let address = String(text.prefix { $0 != "%" })
        return (try? SocketAddress(ipAddress: address, port: 0)).flatMap(Self.text(of:)) ?? text
    }
}
