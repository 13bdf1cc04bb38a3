import Foundation
import Testing

/// The built `stepwise` executable: next to the test bundle (the products directory), or in the
/// package's `.build/debug` when the tests run from somewhere else.
private let stepwiseExecutable: URL? = {
    var directories: [URL] = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    if let first = CommandLine.arguments.first { directories.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
    // Tests/StepwiseEngineTests/ValidateCommandTests.swift → the package root.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    directories.append(packageRoot.appendingPathComponent(".build/debug"))
    for directory in directories {
        let candidate = directory.appendingPathComponent("stepwise")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: candidate.path)
        {
            return candidate
        }
    }
    return nil
}()

/// What a run of the command printed, and its exit status.
private struct CommandResult {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

private func stepwise(_ arguments: String...) throws -> CommandResult {
    let executable = try #require(
        stepwiseExecutable,
        "the stepwise executable was not found next to the test bundle or in .build/debug; build it with `swift build`")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // The outputs here are small, far below a pipe's buffer, so reading one after the other cannot block.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self))
}

/// `stepwise validate`'s exit statuses, which CI relies on: 0 clean, 1 errors, 2 usage or I/O.
@Suite("stepwise validate exit status", .timeLimit(.minutes(1)))
struct ValidateCommandTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a clean file exits 0")
    func cleanFile() throws {
        let path = try write("clean.yaml", """
            workflow: clean
            steps:
              - id: done
                return: 1
            """)
        let result = try stepwise("validate", path)
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    }

    @Test("a file with errors exits 1 and reports them at file:line:col")
    func brokenFile() throws {
        let path = try write("broken.yaml", """
            workflow: broken
            steps:
              - id: wait
                sleep: 5 minutes
              - id: wait
                return: ${{ steps.wait.until }}
            """)
        let result = try stepwise("validate", path)
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("broken.yaml:"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("error["), "\(result.standardOutput)")
    }

    @Test("a path that does not exist exits 2 and says so")
    func missingPath() throws {
        let result = try stepwise("validate", directory.path("missing.yaml"))
        #expect(result.status == 2)
        #expect(result.standardError.contains("no such file or folder"), "\(result.standardError)")
    }
}
