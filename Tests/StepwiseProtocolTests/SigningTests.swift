import StepwiseExpressions
import Testing

@testable import StepwiseProtocol

@Suite struct SigningTests {
    /// A token QStash itself produced, with its keys (qstash-js `examples/nodejs/index.js`):
    /// body "Hello World", signed with the current key at unix 1657530456.
    static let qstashToken =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiIiLCJib2R5IjoicFpHbTFBdjBJRUJLQVJjeno3ZXhrTllzWmI4THphTXJWN0ozMmEyZkZHND0iLCJleHAiOjE2NTc1MzA3NTYsImlhdCI6MTY1NzUzMDQ1NiwiaXNzIjoiVXBzdGFzaCIsImp0aSI6Imp3dF83QXFHbkRLV3dLTmY2dEdUNExnRjhqdENEQjhqIiwibmJmIjoxNjU3NTMwNDU2LCJzdWIiOiJodHRwczovL3FzdGFzaC1wcm9kLWFuZHJlYXMucmVxdWVzdGNhdGNoZXIuY29tL3Rlc3QifQ.GzDXaBRUAqx0KPE-WxfZVVceJll3T1RgxdTRbWPZw8s"
    static let keys = SigningKeys(
        current: SigningKey("sig_3nj4aiyJ2JojDnQ1RRodpYubZAZxAJxNfQcRSKPwVUNbueYk2o"),
        next: SigningKey("sig_31zVqmL3s7Eo1vpu1jRSMpaetJXvAT3RvNcfoGUp1Toii8fsQE")
    )
    static let destination = "https://qstash-prod-andreas.requestcatcher.com/test"
    static let body = Array("Hello World".utf8)

    @Test func verifiesATokenQStashProduced() throws {
        let claims = try SignatureVerifier(keys: Self.keys).verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_500, url: Self.destination)
        #expect(claims.id == "jwt_7AqGnDKWwKNf6tGT4LgF8jtCDB8j" && claims.expiresAt == 1_657_530_756)
        #expect(claims.bodyHash == "pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=")
    }

    @Test func signsByteIdenticallyToQStash() {
        let claims = SignatureClaims(destination: Self.destination, body: Self.body, now: 1_657_530_456, id: "jwt_7AqGnDKWwKNf6tGT4LgF8jtCDB8j")
        #expect(RequestSigner(key: Self.keys.current).token(for: claims) == Self.qstashToken)
    }

    @Test func rejectsWhatTheReceiversReject() throws {
        let verifier = SignatureVerifier(keys: Self.keys)
        #expect(throws: ProtocolError("the signature has expired")) {
            try verifier.verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_756)
        }
        #expect(throws: ProtocolError("the signature is not yet valid")) {
            try verifier.verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_400)
        }
        #expect(try verifier.verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_400, leeway: 60).subject == Self.destination)
        #expect(throws: ProtocolError("invalid subject: \(Self.destination), want: https://other.test")) {
            try verifier.verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_500, url: "https://other.test")
        }
        #expect(throws: ProtocolError.self) { try verifier.verify(token: Self.qstashToken, body: Array("Hello".utf8), now: 1_657_530_500) }
        let otherKeys = SigningKeys(current: SigningKey("sig_a"), next: SigningKey("sig_b"))
        #expect(throws: ProtocolError("the JWT signature is invalid")) {
            try SignatureVerifier(keys: otherKeys).verify(token: Self.qstashToken, body: Self.body, now: 1_657_530_500)
        }
        #expect(throws: ProtocolError("the signature is not a compact JWT")) { try verifier.verify(token: "a.b", body: [], now: 0) }
        let wrongIssuer = RequestSigner(key: Self.keys.current).token(for: SignatureClaims(
            issuer: "Someone", subject: "https://x.test", issuedAt: 10, notBefore: 10, expiresAt: 310, id: "jwt_x", bodyHash: SignatureClaims.hash(of: [])))
        #expect(throws: ProtocolError("invalid issuer: Someone")) { try verifier.verify(token: wrongIssuer, body: [], now: 20) }
        let issuedLater = RequestSigner(key: Self.keys.current).token(for: SignatureClaims(
            subject: "https://x.test", issuedAt: 50, notBefore: 10, expiresAt: 310, id: "jwt_z", bodyHash: SignatureClaims.hash(of: [])))
        #expect(throws: ProtocolError("the signature is not yet valid")) { try verifier.verify(token: issuedLater, body: [], now: 20) }
    }

    @Test func acceptsTheNextKeyAndUnpaddedHashes() throws {
        var generator = SeededGenerator(seed: 7)
        let token = RequestSigner(key: Self.keys.next).signature(body: [], destination: "https://x.test", now: 100, using: &generator)
        let claims = try SignatureVerifier(keys: Self.keys).verify(token: token, body: [], now: 150)
        #expect(claims.id.hasPrefix("jwt_") && claims.id.count == 32)
        // The empty body's hash (a lazy-fetch delivery); receivers compare without padding.
        #expect(claims.bodyHash == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=")
        let unpadded = RequestSigner(key: Self.keys.current).token(for: SignatureClaims(
            subject: "https://x.test", issuedAt: 100, notBefore: 100, expiresAt: 400, id: "jwt_y", bodyHash: "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"))
        #expect(try SignatureVerifier(keys: Self.keys).verify(token: unpadded, body: [], now: 150).id == "jwt_y")
    }

    @Test func generatesAndRotatesKeys() {
        var generator = SeededGenerator(seed: 42)
        let keys = SigningKeys.generate(using: &generator)
        #expect(keys.current.text.hasPrefix("sig_") && keys.current.text.count == 32 && keys.current != keys.next)
        #expect(keys.current.text.dropFirst(4).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        let rotated = keys.rotated(using: &generator)
        #expect(rotated.current == keys.next && rotated.next != keys.next)
        #expect(String(decoding: keys.jsonBytes, as: UTF8.self) == #"{"current":"\#(keys.current.text)","next":"\#(keys.next.text)"}"#)
        #expect(!keys.current.description.contains(keys.current.text.dropFirst(4).prefix(3)), "no character of the random part")
        var dumped = ""
        dump(keys, to: &dumped)
        #expect(!dumped.contains(keys.current.text.dropFirst(4).prefix(3)) && !dumped.contains(keys.next.text.dropFirst(4).prefix(3)), "\(dumped)")
    }

    /// Prints a token for the cross-check with Python's `qstash.Receiver` (see docs/protocol.md).
    @Test func printsATokenForThePythonCrossCheck() throws {
        var generator = SeededGenerator(seed: 1)
        let keys = SigningKeys(current: SigningKey("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r"), next: SigningKey("sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs"))
        let now: Int64 = 1_800_000_000
        let token = RequestSigner(key: keys.current).signature(
            body: Array(#"{"hello":"world"}"#.utf8), destination: "https://app.test/api/wf", now: now, using: &generator)
        print("PYTHON-CROSS-CHECK-TOKEN \(token)")
        #expect(try SignatureVerifier(keys: keys).verify(token: token, body: Array(#"{"hello":"world"}"#.utf8), now: now).issuedAt == now)
    }
}
