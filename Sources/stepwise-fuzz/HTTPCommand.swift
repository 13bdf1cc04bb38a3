import ArgumentParser

/// `stepwise-fuzz http`: raw, mutated HTTP/1.1 requests to a server already running on 127.0.0.1.
struct HTTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "Fuzz a running server on 127.0.0.1 with mutated HTTP/1.1 requests.",
        discussion: "Start the server first, e.g. `stepwise serve --port 18999` in a scratch folder; only 127.0.0.1 is ever contacted.")

    @OptionGroup var options: FuzzOptions

    @Option(name: .long, help: "Port of the server on 127.0.0.1.")
    var port: UInt16 = 8080

    @Option(name: .long, help: "A header added to every seed request, e.g. 'Authorization: Bearer TOKEN' (repeatable).")
    var header: [String] = []

    @Option(name: .long, help: "Seconds to wait for an answer or a close.")
    var timeout = 2

    func run() throws {
        var target = HTTPTarget(port: port, timeout: .seconds(timeout))
        try options.run(&target, seeds: HTTPTarget.seeds(extraHeaders: header))
    }
}
