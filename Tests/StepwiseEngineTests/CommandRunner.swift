import Foundation
import Testing
import StepwiseTesting

/// The built `stepwise` executable: next to the test bundle (the products directory), or in the
/// package's `.build/debug` when the tests run from somewhere else.
let stepwiseExecutable: URL? = {
    var directories: [URL] = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    if let first = CommandLine.arguments.first { directories.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
    // Tests/StepwiseEngineTests/CommandRunner.swift → the package root.
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
struct CommandResult {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

/// Runs the built `stepwise` with `arguments`, and `standardInput` on its standard input, or none.
func stepwise(_ arguments: String..., standardInput: String? = nil) throws -> CommandResult {
    try stepwise(arguments: arguments, standardInput: standardInput)
}

/// `stepwise(_:standardInput:)` with the arguments as an array.
func stepwise(arguments: [String], standardInput: String? = nil) throws -> CommandResult {
    let executable = try #require(
        stepwiseExecutable,
        "the stepwise executable was not found next to the test bundle or in .build/debug; build it with `swift build`")
    let result = try ChildProcess.run(executable.path, arguments, standardInput: standardInput.map { Array($0.utf8) })
    return CommandResult(
        status: result.status, standardOutput: String(decoding: result.standardOutput, as: UTF8.self),
        standardError: String(decoding: result.standardError, as: UTF8.self))
}

