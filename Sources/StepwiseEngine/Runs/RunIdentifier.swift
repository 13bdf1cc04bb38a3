import Crypto
import Foundation
import StepwiseProtocol

/// Run ids: the ones the engine makes (fresh, schedule ticks, `invoke` children) and the rules
/// for ids a client chooses (`Upstash-Workflow-RunId`), which keep the two apart: a client can
/// never take an id the engine will derive later (a future tick, a child) and adopt its work.
public enum RunIdentifier {
    /// The longest id a client may choose.
    public static let maximumClientLength = 128
    /// Prefixes of ids the engine derives; a client id may not start with them.
    static let reservedPrefixes = ["wfr_sched_", "wfr_invoke_"]

    /// A fresh id: `prefix` (a run's `wfr_` by default) and 32 random hex digits.
    static func fresh(prefix: String = "wfr_") -> String {
        prefix + RandomHex.digits(32)
    }

    /// The id of the run of a schedule's tick at `secondsSinceEpoch`: the same on every node, so
    /// a tick starts one run.
    static func scheduleTick(workflow: String, position: Int, secondsSinceEpoch: Int64) -> String {
        scheduleTickPrefix(workflow: workflow, position: position) + String(secondsSinceEpoch)
    }

    /// What the ids of every run of a schedule entry start with.
    static func scheduleTickPrefix(workflow: String, position: Int) -> String {
        "wfr_sched_\(workflow)_\(position)_"
    }

    /// The id of the run an `invoke` step starts: derived from the parent and the step, so that
    /// delivering the same step twice cannot start two children.
    static func child(parent: String, step: String) -> String {
        "wfr_invoke_" + SHA256.hash(data: Data("\(parent)/\(step)".utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// What is wrong with `id` as a client's choice, or `nil` when it may be used: 1 to 128
    /// characters of letters, digits, `_`, `-`, `.` and `:`, not starting with a reserved prefix,
    /// and not `.` or `..` (a URL path resolves those away, so no route could name the run).
    public static func clientProblem(_ id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= maximumClientLength else {
            return "a run id has 1 to \(maximumClientLength) characters; this one has \(id.utf8.count)"
        }
        guard id.unicodeScalars.allSatisfy(isAllowed) else {
            return "a run id may contain only letters, digits, '_', '-', '.' and ':'"
        }
        guard !QStashName.isDotSegment(id) else { return "a run id cannot be '.' or '..': a URL path would not reach the run" }
        if let prefix = reservedPrefixes.first(where: id.hasPrefix) {
            return "run ids starting with '\(prefix)' are made by the engine (schedules, invoke) and cannot be chosen"
        }
        return nil
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "_-.:".unicodeScalars.contains(scalar))
    }
}
