import Foundation
import StepwiseTesting
import Testing

/// `stepwise run FILE`: a workflow run to its end in the command's own process.
@Suite("stepwise run", .timeLimit(.minutes(3)))
struct RunCommandTests {
    /// Writes `text` as the file `name` in `directory`; its path.
    private static func workflowFile(_ name: String, _ text: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a workflow that invokes others of its folder runs them too, as validate finds them; one with errors, or a name two files define, is named")
    func invokesItsNeighbours() throws {
        let directory = try TemporaryDirectory()
        func write(_ name: String, _ text: String) throws {
            _ = try Self.workflowFile(name, text, in: directory)
        }
        try write("parent.yaml", """
            workflow: parent
            steps:
              - id: kid
                invoke: {workflow: child, input: {n: 3}}
            output: ${{ steps.kid.output }}
            """)
        try write("child.yaml", """
            workflow: child
            steps:
              - id: inner
                invoke: {workflow: grandchild, input: {n: "${{ input.n }}"}}
            output: ${{ steps.inner.output }}
            """)
        try write("grandchild.yaml", """
            workflow: grandchild
            steps:
              - id: double
                set: {doubled: "${{ input.n * 2 }}"}
            output: ${{ steps.double.doubled }}
            """)
        let result = try stepwise("run", directory.path("parent.yaml"))
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("✔ succeeded with output 6"), "\(result.standardOutput)")

        try write("grandchild.yaml", """
            workflow: grandchild
            steps:
              - id: double
                set: {doubled: "${{ input.n * }}"}
            """)
        let broken = try stepwise("run", directory.path("parent.yaml"))
        #expect(broken.status != 0)
        #expect(broken.standardError.contains("grandchild.yaml, which child invokes, has errors"), "\(broken.standardError)")

        // Two files defining the invoked name: which one would run is a guess, so none does.
        try write("child-copy.yml", "workflow: child\nsteps:\n  - id: inner\n    set: {n: 1}\n")
        let ambiguous = try stepwise("run", directory.path("parent.yaml"))
        #expect(ambiguous.status == 1)
        #expect(ambiguous.standardError.contains("parent invokes child, which 2 files of its folder define"), "\(ambiguous.standardError)")
    }

    @Test("a run refused at its start says only why: the engine stops before its temporary store is removed (its retention pass once reported that store deleted under a server)")
    func aRefusedRunSaysOnlyWhy() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.workflowFile("count.yaml", """
            workflow: count
            input:
              type: object
              properties:
                n: {type: integer}
            steps:
              - id: a
                set: {n: "${{ input.n }}"}
            """, in: directory)
        // The race took about one start in twelve.
        for _ in 0..<24 {
            let refused = try stepwise("run", path, "--input", #"{"n": 1e17}"#)
            #expect(refused.status != 0)
            let lines = refused.standardError.split(separator: "\n")
            #expect(lines.first?.hasPrefix("error: the input does not match the input schema") == true, "\(refused.standardError)")
            #expect(!refused.standardError.contains("stepwise.engine"), "\(refused.standardError)")
        }
        // An input deeper than a run keeps is refused as the API refuses it, not run.
        let deep = String(repeating: "[", count: 501) + String(repeating: "]", count: 501)
        let tooDeep = try stepwise("run", path, "--input", #"{"n": 1, "x": \#(deep)}"#)
        #expect(tooDeep.status == 2 && tooDeep.standardError.contains("nesting deeper than 500 levels"), "\(tooDeep.standardError)")
    }

    @Test("a run that waits says which step it waits on; interrupted (Ctrl-C), the command leaves no temporary store behind")
    func anInterruptedRunLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.workflowFile("sleeper.yaml", """
            workflow: sleeper
            steps:
              - id: nap
                sleep: 60s
            """, in: directory)
        let temporary = directory.path("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let executable = try #require(stepwiseExecutable).path
        let result = try ChildProcess.run("/bin/sh", ["-c", "TMPDIR='\(temporary)' timeout -s INT 3 '\(executable)' run '\(path)'; echo \"exit $?\""])
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        #expect(output.contains("  … nap [waiting]"), "\(output)")
        #expect(output.hasSuffix("exit 124\n"), "ended by the interrupt: \(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty, "the run's store was removed")
    }

    @Test("run shows each line as it happens, also into a pipe (a run killed mid-way keeps what it showed), and says what it waits on after the steps recorded before")
    func linesAreShownAsTheyHappen() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.workflowFile("stepper.yaml", """
            workflow: stepper
            steps:
              - id: one
                sleep: 1s
              - id: two
                sleep: 60s
            """, in: directory)
        let executable = try #require(stepwiseExecutable).path
        let result = try ChildProcess.run("/bin/sh", ["-c", "timeout -s KILL 4 '\(executable)' run '\(path)' | cat"])
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        #expect(output.hasPrefix("▶ stepper run"), "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        let done = try #require(lines.firstIndex { $0.contains("✔ one") }, "\(output)")
        let waiting = try #require(lines.firstIndex { $0.contains("… two [waiting]") }, "\(output)")
        #expect(done < waiting, "\(output)")
    }
}
