import ArgumentParser
import Foundation

/// The `stepwise` command line: durable workflows written in YAML.
///
/// Exit status: 0 on success, 1 when the work itself fails (an expression error, invalid
/// workflows), 2 for usage and I/O errors (unknown options, unreadable files).
@main
struct StepwiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise",
        abstract: "Durable workflows written in YAML.",
        subcommands: [
            ServeCommand.self, RunnerCommand.self, ValidateCommand.self, TriggerCommand.self, RunsCommand.self, LogsCommand.self,
            CancelCommand.self, NotifyCommand.self, WaitersCommand.self, DLQCommand.self, SchedulesCommand.self, KeysCommand.self, BackupCommand.self, RunCommand.self,
            EvalCommand.self, CronCommand.self,
        ]
    )

    static func main() async {
        // serve and runner reload on SIGHUP once they run; until then, arguments being parsed, it
        // must not stop them, as its default action would.
        if ["serve", "runner"].contains(CommandLine.arguments.dropFirst().first) { signal(SIGHUP, SIG_IGN) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            requireOutputWritten()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("error: \(TerminalText.visible(failure.description, keepingLineBreaks: true))\n".utf8))
            Foundation.exit(failure.exitCode)
        } catch {
            // ArgumentParser reports usage errors with EX_USAGE (64); Stepwise promises 2.
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((TerminalText.visible(fullMessage(for: error), keepingLineBreaks: true) + "\n").utf8))
            Foundation.exit(2)
        }
    }

    /// Fails the command when its output could not all be written (a full disk, `> /dev/full`, a
    /// reader gone): `print` drops such errors, and a status of 0 would say the output is there
    /// (a trigger's run id, a backup's report).
    private static func requireOutputWritten() {
        // Every stream: standard output is one, and what failed to be written before stays failing.
        guard fflush(nil) != 0 else { return }
        FileHandle.standardError.write(Data("error: cannot write the output to standard output: \(String(cString: strerror(errno)))\n".utf8))
        Foundation.exit(2)
    }
}
