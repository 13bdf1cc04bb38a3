import Testing

@testable import StepwiseProtocol

@Suite struct RetriesTests {
    @Test func defaultBackoffMatchesTheDocumentedTable() {
        // qstash/features/retry.mdx: 12s, 2m28s, 30m8s, 6h7m, then one day.
        #expect(DefaultBackoff.delay(beforeRetry: 1).milliseconds / 1_000 == 12)
        #expect(DefaultBackoff.delay(beforeRetry: 2).milliseconds / 1_000 == 148)
        #expect(DefaultBackoff.delay(beforeRetry: 3).milliseconds / 1_000 == 1_808)
        #expect(DefaultBackoff.delay(beforeRetry: 4).milliseconds / 1_000 == 22_026)
        #expect(DefaultBackoff.delay(beforeRetry: 5) == DefaultBackoff.maximum)
        #expect(DefaultBackoff.delay(beforeRetry: .max) == DefaultBackoff.maximum)
    }

    @Test func evaluatesTheDocumentedExpressions() throws {
        #expect(try RetryDelayExpression("1000").delay(retried: 5).milliseconds == 1_000)
        #expect(try RetryDelayExpression("pow(2, retried) * 1000").delay(retried: 3).milliseconds == 8_000)
        #expect(try RetryDelayExpression("max(10, pow(retried, 2) * 500)").delay(retried: 0).milliseconds == 10)
        #expect(try RetryDelayExpression("min(60000, 1000 * exp(retried))").delay(retried: 20).milliseconds == 60_000)
        #expect(try RetryDelayExpression("(retried + 1) * -(-250) / 2").delay(retried: 1).milliseconds == 250)
        #expect(try RetryDelayExpression("round(sqrt(abs(0 - 10)))+floor(1.7)+ceil(0.2)").delay(retried: 0).milliseconds == 5)
    }

    @Test func clampsInsteadOfTrapping() throws {
        #expect(try RetryDelayExpression("0/0").delay(retried: 1).milliseconds == 0)
        #expect(try RetryDelayExpression("sqrt(-1)").delay(retried: 1).milliseconds == 0)
        #expect(try RetryDelayExpression("1/0").delay(retried: 1) == DefaultBackoff.maximum)
        #expect(try RetryDelayExpression("pow(10, 400)").delay(retried: 1) == DefaultBackoff.maximum)
        #expect(try RetryDelayExpression("-5000").delay(retried: 1).milliseconds == 0)
    }

    @Test func rejectsBadExpressionsAtPublishTime() {
        #expect(throws: ProtocolError("unknown name 'attempt'; expected retried or one of pow sqrt abs exp floor ceil round min max at offset 7 of the retry delay expression")) {
            try RetryDelayExpression("attempt * 2")
        }
        #expect(throws: ProtocolError("pow takes 2 arguments, not 1 at offset 6 of the retry delay expression")) { try RetryDelayExpression("pow(2)") }
        #expect(throws: ProtocolError.self) { try RetryDelayExpression("") }
        #expect(throws: ProtocolError.self) { try RetryDelayExpression("1 2") }
        #expect(throws: ProtocolError.self) { try RetryDelayExpression("1..2") }
        #expect(throws: ProtocolError("the expression nests too deeply at offset 32 of the retry delay expression")) {
            try RetryDelayExpression(String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200))
        }
        #expect(throws: ProtocolError.self) { try RetryDelayExpression(String(repeating: "-", count: 5_000) + "1") }
    }
}
