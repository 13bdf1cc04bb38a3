import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise keys`: the signing keys of deliveries, for endpoints that verify them
/// (`QSTASH_CURRENT_SIGNING_KEY`, `QSTASH_NEXT_SIGNING_KEY`); `--rotate` makes the next key current.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Show (or rotate) the keys that sign deliveries.",
        discussion: "Prints them as environment variables for an endpoint that verifies signatures.")

    @Flag(name: .long, help: "Make the next key current and create a fresh next key first.") var rotate = false
    @OptionGroup var server: ServerOption

    func run() async throws {
        let keys = try await server.client.expectSuccess(rotate ? .POST : .GET, rotate ? "/v2/keys/rotate" : "/v2/keys")
        print("QSTASH_CURRENT_SIGNING_KEY=\(keys["current"]?.stringText ?? "")")
        print("QSTASH_NEXT_SIGNING_KEY=\(keys["next"]?.stringText ?? "")")
    }
}
