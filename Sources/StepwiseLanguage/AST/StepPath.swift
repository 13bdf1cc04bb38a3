/// The structural path of a step: the ids of its enclosing steps and its own, with markers for
/// the iteration of a `for_each`, the branch of a `parallel`, `catch` and `on_failure`.
///
/// Written with `.` between segments and `[]` after a `for_each`: `fanout[].send`; at run time
/// the iteration index fills the brackets (`fanout[3].send`).
public struct StepPath: Sendable, Hashable, CustomStringConvertible {
    /// One segment of a path.
    public enum Segment: Sendable, Hashable {
        case step(String)
        case iteration
        case branch(String)
        case `catch`
        case onFailure
    }

    public var segments: [Segment]

    public init(_ segments: [Segment] = []) {
        self.segments = segments
    }

    /// This path extended by one segment.
    public func appending(_ segment: Segment) -> StepPath {
        StepPath(segments + [segment])
    }

    public var description: String { instantiated(indices: []) }

    /// The path with iteration indices filled in (`fanout[3].send`), as journaled at run time.
    public func instantiated(indices: [Int]) -> String {
        var remaining = indices[...]
        var text = ""
        for segment in segments {
            switch segment {
            case .iteration:
                text += "[\(remaining.popFirst().map(String.init) ?? "")]"
            case .step(let name), .branch(let name):
                text += (text.isEmpty ? "" : ".") + name
            case .catch:
                text += (text.isEmpty ? "" : ".") + "catch"
            case .onFailure:
                text += (text.isEmpty ? "" : ".") + "on_failure"
            }
        }
        return text
    }
}
