import Foundation
import Testing
import StepwiseExpressions

/// The deepest expressions the parser accepts must parse, print, check and evaluate on a small
/// thread stack (512 KiB, as on macOS worker threads), not only on the 8 MiB main thread.
@Suite("Deep nesting")
struct DeepNestingTests {
    static let depth = Parser.maximumDepth - 2

    static let sources: [String] = [
        String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth),
        String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth),
        "1" + String(repeating: " + 1", count: depth),
        String(repeating: "x.map(a, ", count: depth / 2) + "a" + String(repeating: ")", count: depth / 2),
        String(repeating: "!", count: depth) + "true",
        String(repeating: "false ? 1 : ", count: depth) + "2",
    ]

    @Test("accepted nesting runs on a 512 KiB stack", arguments: sources)
    func deepExpressionOnSmallStack(source: String) async throws {
        let outcome = await Self.onSmallStack {
            do {
                let expression = try Parser.parse(source)
                _ = ExpressionChecker.check(expression, in: CheckEnvironment(names: ["x"]))
                _ = try Parser.parse(expression.description)
                return try expression.evaluate(["x": .list([.int(1)])]).jsonText()
            } catch {
                return "error: \(error)"
            }
        }
        #expect(!outcome.hasPrefix("error"), "\(outcome)")
    }

    private static func onSmallStack(_ work: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }
}
