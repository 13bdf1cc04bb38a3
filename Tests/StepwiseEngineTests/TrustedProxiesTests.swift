import NIOCore
import Testing
@testable import StepwiseServer

/// `--trusted-proxy`: which peers are proxies, and which hop of `X-Forwarded-For` is the client.
@Suite("Trusted proxies")
struct TrustedProxiesTests {
    private func client(_ proxies: TrustedProxies, peer: String, _ forwardedFor: String...) throws -> String? {
        proxies.client(of: try SocketAddress(ipAddress: peer, port: 4711), forwardedFor: forwardedFor)
    }

    @Test("ranges match on their prefix, within a byte too, for IPv4 and IPv6; a dual-stack peer is its IPv4 address")
    func rangesMatchTheirPrefix() throws {
        let proxies = try TrustedProxies(["172.16.0.0/12", "fd00::/8", "192.0.2.1"])
        #expect(try client(proxies, peer: "172.31.255.1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(proxies, peer: "172.32.0.1", "203.0.113.7") == "172.32.0.1", "outside /12")
        #expect(try client(proxies, peer: "fd12::1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(proxies, peer: "fe80::1", "203.0.113.7") == "fe80::1")
        #expect(try client(proxies, peer: "::ffff:192.0.2.1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(proxies, peer: "192.0.2.2", "203.0.113.7") == "192.0.2.2", "a lone address is a /32")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7, 192.0.2.1", "172.16.0.9") == "203.0.113.7", "every header line, nearest last")
        #expect(try client(proxies, peer: "192.0.2.1", "172.16.0.8, 172.16.0.9") == "172.16.0.8", "all trusted: the farthest")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7:80") == "203.0.113.7", "a port is dropped")
        #expect(try client(TrustedProxies(["0.0.0.0/0"]), peer: "198.51.100.1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(TrustedProxies(), peer: "198.51.100.1", "203.0.113.7") == "198.51.100.1", "none trusted")
    }

    @Test("a range that is not one is refused, naming it", arguments: ["10.0.0.0/33", "fd00::/129", "example.com", "10.0.0.0/", "10.0.0/8", "/8", ""])
    func badRangesAreRefused(text: String) {
        #expect(throws: TrustedProxies.InvalidRange.self) { try TrustedProxies([text]) }
        #expect((try? TrustedProxies([text])) == nil)
        #expect(TrustedProxies.InvalidRange(text: text).description.contains("'\(text)'"))
    }
}
