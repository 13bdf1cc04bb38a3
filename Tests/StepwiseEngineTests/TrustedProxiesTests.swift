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
        #expect(try client(proxies, peer: "192.0.2.1", "2001:db8::7") == "2001:db8::7", "IPv6 without brackets")
        #expect(try client(proxies, peer: "192.0.2.1", "[2001:db8::7]") == "2001:db8::7", "brackets without a port")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7, unknown, 172.16.0.9") == "172.16.0.9", "no address: the trusted hop before it")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7, , 172.16.0.9") == "172.16.0.9", "an empty hop is no address")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7,,172.16.0.9") == "172.16.0.9")
        #expect(try client(proxies, peer: "192.0.2.1", "[2001:db8::7]junk") == "192.0.2.1", "text after the brackets is no port")
        #expect(try client(proxies, peer: "192.0.2.1", "203.0.113.7:http") == "192.0.2.1")
        #expect(try client(TrustedProxies(["0.0.0.0/0"]), peer: "198.51.100.1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(TrustedProxies(["::/0"]), peer: "2001:db8::1", "203.0.113.7") == "203.0.113.7")
        #expect(try client(TrustedProxies(["::/0"]), peer: "198.51.100.1", "203.0.113.7") == "198.51.100.1", "an IPv4 peer is not in an IPv6 range")
        let mapped = try TrustedProxies(["::ffff:10.0.0.0/104"])
        #expect(try client(mapped, peer: "10.9.9.9", "203.0.113.7") == "203.0.113.7", "a mapped range is its IPv4 range (/8)")
        #expect(try client(mapped, peer: "::ffff:10.9.9.9", "203.0.113.7") == "203.0.113.7")
        #expect(try client(mapped, peer: "11.0.0.1", "203.0.113.7") == "11.0.0.1")
        #expect(try client(TrustedProxies(), peer: "198.51.100.1", "203.0.113.7") == "198.51.100.1", "none trusted")
    }

    @Test(
        "a range that is not one is refused, naming it",
        arguments: ["10.0.0.0/33", "fd00::/129", "::ffff:10.0.0.0/8", "example.com", "10.0.0.0/", "10.0.0/8", "/8", "", "10.0.0.0/-1"])
    func badRangesAreRefused(text: String) {
        let error = #expect(throws: TrustedProxies.InvalidRange.self) { try TrustedProxies(["127.0.0.1", text]) }
        #expect(error?.text == text)
    }
}
