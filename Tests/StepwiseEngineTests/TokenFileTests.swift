import Foundation
import StepwiseTesting
import Testing

/// `.stepwise/token` as `serve` and the client commands read it: a file that cannot give a
/// token is an error naming it, never a reason to make a new token (clients holding the old one
/// would get 401) or to send none.
@Suite("The API token file")
struct TokenFileTests {
    /// Runs the built `stepwise` with `arguments` in `folder`, for at most 20 s.
    private func stepwise(in folder: TemporaryDirectory, _ arguments: String) throws -> CommandResult {
        let executable = try #require(stepwiseExecutable, "build the stepwise executable with `swift build`")
        let result = try ChildProcess.run("/bin/sh", ["-c", "cd '\(folder.url.path)' && exec timeout 20 '\(executable.path)' \(arguments)"])
        return CommandResult(
            status: result.status, standardOutput: String(decoding: result.standardOutput, as: UTF8.self),
            standardError: String(decoding: result.standardError, as: UTF8.self))
    }

    @Test("an empty token file, one that is no UTF-8, or one whose token holds a line break is refused naming it, by serve (which leaves it as it is) and by clients", arguments: [
        ([UInt8](), "is empty"), ([0xFF, 0xFE, 0x41], "is not UTF-8 text"),
        (Array("abc\ndef\n".utf8), "holds a control character inside the token"),
    ])
    func unusableTokenFile(contents: [UInt8], problem: String) throws {
        let folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.path(".stepwise"), withIntermediateDirectories: true)
        let file = folder.path(".stepwise/token")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(contents)))
        let served = try stepwise(in: folder, "serve --port 1 --store sqlite:store.db")
        #expect(served.status != 0 && served.status != 124, "serve refuses to start (124: it ran until the timeout)")
        #expect(served.standardError.contains(".stepwise/token \(problem)"), "\(served.standardError)")
        #expect(FileManager.default.contents(atPath: file) == Data(contents), "the file is left as it was")
        let client = try stepwise(in: folder, "runs --server http://127.0.0.1:9")
        #expect(client.status != 0)
        #expect(client.standardError.contains(".stepwise/token \(problem)"), "\(client.standardError)")
        let given = try stepwise(in: folder, "runs --server http://127.0.0.1:9 --token given-explicitly")
        #expect(!given.standardError.contains(".stepwise/token"), "a token given explicitly is used: \(given.standardError)")
    }

    @Test("a token file that is a folder is named as one, not as a file system error code")
    func tokenFileIsAFolder() throws {
        let folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.path(".stepwise/token"), withIntermediateDirectories: true)
        let client = try stepwise(in: folder, "runs --server http://127.0.0.1:9")
        #expect(client.status == 2 && client.standardError.contains(".stepwise/token is a folder"), "\(client.standardError)")
    }
}
