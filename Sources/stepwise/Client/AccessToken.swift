import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions

/// The API token shared by `stepwise serve` and the client commands: given with `--token`, else
/// `STEPWISE_TOKEN`, else the file `.stepwise/token`, which `serve` creates (readable by its
/// owner only) when none of them is there and no node stored one. Nodes sharing a store accept
/// one token, shared as its digest (`SharedToken`). The token itself is never printed.
struct AccessToken {
    static let file = ".stepwise/token"
    static let environmentVariable = "STEPWISE_TOKEN"

    let value: String
    /// Where the token came from, for people ("--token", "STEPWISE_TOKEN", the file).
    let source: String

    /// The token node `node` accepts and where it came from: an explicit one becomes every
    /// node's; else this node's file or a new one, unless another node stored a token first.
    static func forServer(explicit: String?, node: String, store: any Store) async throws -> (token: SharedToken, source: String) {
        try await SharedToken.resolve(
            explicit: given(explicit: explicit).map { ($0.value, $0.source) }, local: try fromFile().map { ($0.value, $0.source) },
            node: node, store: store
        ) {
            let created = try create()
            return (created.value, created.source)
        }
    }

    /// The token a client sends, if one is configured (`checkFile` told already why a file
    /// cannot give one).
    static func forClient(explicit: String?) -> AccessToken? {
        given(explicit: explicit) ?? (try? fromFile())
    }

    /// Refuses a token file the client would read (none was given) that cannot give a token,
    /// naming it and why: sending no token would only earn a 401.
    static func checkFile(explicit: String?) throws {
        guard given(explicit: explicit) == nil else { return }
        do {
            _ = try fromFile()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Refuses a token given with `--token` or in the environment that holds a control
    /// character (a newline left by `$(cat …)`, a tab): no HTTP header can carry it, and the HTTP
    /// client's error would print the whole token. The message names where it came from only.
    static func checkGiven(explicit: String?) throws {
        guard let token = given(explicit: explicit), token.value.containsControlCharacter else { return }
        throw ValidationError("the API token from \(token.source) holds a control character (a newline or a tab?); remove it")
    }

    /// A token given with `--token` or in the environment.
    private static func given(explicit: String?) -> AccessToken? {
        if let explicit, !explicit.isEmpty { return AccessToken(value: explicit, source: "--token") }
        if let variable = ProcessInfo.processInfo.environment[environmentVariable], !variable.isEmpty {
            return AccessToken(value: variable, source: environmentVariable)
        }
        return nil
    }

    /// The token in `file`; `nil` when there is no such file. A file that cannot be read or
    /// holds no token is an error naming it: `serve` would otherwise replace it with a new token,
    /// and every client holding the old one would get 401.
    private static func fromFile() throws(CommandFailure) -> AccessToken? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) else { return nil }
        let advice = "fix it, or delete it and `stepwise serve` makes a new token"
        if isFolder.boolValue { throw CommandFailure.usage("\(file) is a folder, not a file holding the API token; \(advice)") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandFailure.usage("cannot read the API token from \(file): \((error as NSError).localizedDescription); \(advice)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandFailure.usage("\(file) is not UTF-8 text, so it holds no API token; \(advice)")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw CommandFailure.usage("\(file) is empty: it holds no API token; \(advice)") }
        // No HTTP header can carry it (two tokens on two lines?); the HTTP client's error would
        // blame the server.
        guard !value.containsControlCharacter else {
            throw CommandFailure.usage("\(file) holds a control character inside the token (two lines?); \(advice)")
        }
        return AccessToken(value: value, source: file)
    }

    /// Creates the file with a new random token.
    private static func create() throws -> AccessToken {
        let value = SharedToken.freshToken()
        let url = URL(fileURLWithPath: file)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: file, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure.usage("cannot write the API token to \(file)")
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.usage("cannot create \(url.deletingLastPathComponent().path) for the API token: \(error.localizedDescription)")
        }
        return AccessToken(value: value, source: "a new \(file)")
    }
}
