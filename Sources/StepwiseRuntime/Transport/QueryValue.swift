import Foundation

/// One value of a URL query (a query parameter of an `http` step, a filter of the CLI's
/// listings), escaped so that it cannot end the value or start another: `&`, `=`, `+` and
/// everything a query cannot hold as is are percent-encoded.
public enum QueryValue {
    /// `text` percent-encoded for a query value.
    public static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? text
    }
}
