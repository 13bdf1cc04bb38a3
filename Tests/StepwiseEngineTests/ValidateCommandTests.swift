import Foundation
import Testing
import StepwiseTesting

/// `stepwise validate`'s exit statuses, which CI relies on: 0 clean, 1 errors, 2 usage or I/O.
@Suite("stepwise validate exit status", .timeLimit(.minutes(3)))
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

    @Test("a folder with a hostile alias chain and a file that is not UTF-8 is checked whole: each bad file is reported, the good one too")
    func hostileFolder() throws {
        var chain = "a0: &a0 [x]\n"
        for level in 1...47_500 { chain += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        _ = try write("chain.yaml", chain)
        try Data([0x77, 0x6F, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: directory.path("binary.yaml")))
        _ = try write("good.yaml", "workflow: good\nsteps:\n  - id: done\n    return: 1\n")
        let result = try stepwise("validate", directory.url.path)
        #expect(result.status == 1, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("chain.yaml:") && result.standardOutput.contains("deep"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("binary.yaml:") && result.standardOutput.contains("cannot read the file"))
        #expect(!result.standardOutput.contains("good.yaml:"), "the good file has nothing to report")
    }

    @Test("files that cannot be read are each reported with the file system's reason, by validate and by serve, which lists them all")
    func unreadableFilesSayWhy() throws {
        _ = try write("good.yaml", "workflow: good\nsteps:\n  - id: done\n    return: 1\n")
        try FileManager.default.createDirectory(atPath: directory.path("folder.yaml"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: directory.path("loop.yaml"), withDestinationPath: directory.path("loop2.yaml"))
        try FileManager.default.createSymbolicLink(atPath: directory.path("loop2.yaml"), withDestinationPath: directory.path("loop.yaml"))
        try Data([0x77, 0xFF]).write(to: URL(fileURLWithPath: directory.path("binary.yaml")))
        // A folder named like a workflow file is searched, never read as one.
        _ = try write("folder.yaml/inner.yaml", "workflow: inner\nsteps:\n  - id: done\n    return: 1\n")
        let expected = [("loop.yaml", "too many levels of symbolic links"), ("binary.yaml", "it is not UTF-8 text")]
        let validated = try stepwise("validate", directory.url.path)
        #expect(validated.status == 1)
        let served = try stepwise("serve", "--workflows", directory.url.path, "--port", "1", "--store", "sqlite:" + directory.path("store.db"), "--token", "t")
        #expect(served.status != 0)
        #expect(!validated.standardOutput.contains("folder.yaml:") && !served.standardError.contains("folder.yaml:"))
        for (file, reason) in expected {
            #expect(validated.standardOutput.contains("\(file):") && validated.standardOutput.contains("cannot read the file: \(reason)"), "\(validated.standardOutput)")
            #expect(served.standardError.contains("\(file):") && served.standardError.contains("cannot read the file: \(reason)"), "\(served.standardError)")
        }
        let alone = try stepwise("validate", directory.path("loop.yaml"))
        #expect(alone.status == 1 && alone.standardOutput.contains("cannot read the file: too many levels of symbolic links"),
                "a link named alone says why, as inside a folder: \(alone.standardOutput)\(alone.standardError)")
    }

    @Test("a pipe, a device and a file past 8 MiB named like workflow files are refused at once, never read to their end")
    func specialFilesAreRefused() throws {
        _ = try write("good.yaml", "workflow: good\nsteps:\n  - id: done\n    return: 1\n")
        #expect(mkfifo(directory.path("pipe.yaml"), 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: directory.path("zero.yaml"), withDestinationPath: "/dev/zero")
        let big = try #require(FileHandle(forWritingAtPath: try write("big.yaml", "workflow: big\n")))
        try big.truncate(atOffset: UInt64(8 << 20) + 1)
        try big.close()
        let validated = try stepwise("validate", directory.url.path)
        #expect(validated.status == 1)
        for (file, reason) in [
            ("pipe.yaml", "it is not a regular file"), ("zero.yaml", "it is not a regular file"), ("big.yaml", "it is larger than 8 MiB"),
        ] {
            #expect(validated.standardOutput.contains("\(file):") && validated.standardOutput.contains("cannot read the file: \(reason)"), "\(validated.standardOutput)")
        }
        let alone = try stepwise("validate", directory.path("pipe.yaml"))
        #expect(alone.status == 1 && alone.standardOutput.contains("it is not a regular file"), "\(alone.standardOutput)\(alone.standardError)")
    }

    @Test("a folder that cannot be listed is an error naming it, for validate and serve, never a folder without workflows")
    func unlistableFolders() throws {
        // Root lists any folder: the commands run as nobody then, which needs a way in.
        let asRoot = geteuid() == 0
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.url.path)
        let workflows = directory.path("workflows")
        try FileManager.default.createDirectory(atPath: workflows + "/locked", withIntermediateDirectories: true)
        _ = try write("workflows/good.yaml", "workflow: good\nsteps:\n  - id: done\n    return: 1\n")
        _ = try write("workflows/locked/hidden.yaml", "workflow: hidden\nsteps:\n  - id: done\n    return: 1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: workflows + "/locked")
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: workflows + "/locked") }
        func command(_ arguments: String...) throws -> CommandResult {
            let executable = try #require(stepwiseExecutable).path
            let result = try ChildProcess.run(asRoot ? "/usr/sbin/runuser" : executable, (asRoot ? ["-u", "nobody", "--", executable] : []) + arguments)
            return CommandResult(
                status: result.status, standardOutput: String(decoding: result.standardOutput, as: UTF8.self),
                standardError: String(decoding: result.standardError, as: UTF8.self))
        }
        let validated = try command("validate", workflows)
        #expect(validated.status == 1, "\(validated.standardOutput)\(validated.standardError)")
        #expect(validated.standardOutput.contains("locked:") && validated.standardOutput.contains("it is a folder that cannot be listed (permission denied)"),
                "\(validated.standardOutput)")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: workflows)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: workflows) }
        let served = try command("serve", "--workflows", workflows, "--port", "1", "--store", "sqlite:/nonexistent/store.db", "--token", "t")
        #expect(served.status != 0 && served.standardError.contains("it is a folder that cannot be listed (permission denied)"), "\(served.standardError)")
        #expect(!served.standardError.contains("serving 0 workflow"))
    }

    @Test("one file checked alone: an invoke of a workflow in its folder passes, of one that is nowhere is reported; a file next to it that is not a workflow is read only for invoke")
    func invokedNeighbours() throws {
        _ = try write("child.yaml", "workflow: child\nsteps:\n  - id: done\n    return: 1\n")
        // Not a workflow and not UTF-8: reading it would only cost time, and reports nothing either way.
        try Data([0xFF, 0xFE] + Array(repeating: 0x61, count: 1 << 20)).write(to: URL(fileURLWithPath: directory.path("data.yaml")))
        let parent = try write("parent.yaml", "workflow: parent\nsteps:\n  - id: call\n    invoke: {workflow: child}\n")
        let passing = try stepwise("validate", parent)
        #expect(passing.status == 0, "\(passing.standardOutput)\(passing.standardError)")
        let lone = try write("lone.yaml", "workflow: lone\nsteps:\n  - id: call\n    invoke: {workflow: chlid}\n")
        let failing = try stepwise("validate", lone)
        #expect(failing.status == 1)
        #expect(failing.standardOutput.contains("'chlid', which is not in this folder") && failing.standardOutput.contains("did you mean 'child'?"),
                "\(failing.standardOutput)")
        let plain = try write("plain.yaml", "workflow: plain\nsteps:\n  - id: done\n    return: 1\n")
        #expect(try stepwise("validate", plain).status == 0)
    }
}
