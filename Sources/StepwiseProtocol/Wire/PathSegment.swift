import Foundation

/// One segment of a URL path (a run id, an event id, a workflow name), escaped so that it can
/// neither end the path nor split it: what the CLI and the runner put in the API's paths.
public enum PathSegment {
    /// `text` with every character a path segment cannot hold as is percent-encoded.
    public static func escaped(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
