import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise schedules`: the workflows' cron schedules and the QStash schedules (those of
/// `stepwise runner`s and SDK clients).
struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedules", abstract: "List the cron schedules and their next fire times.")

    @OptionGroup var server: ServerOption

    func run() async throws {
        let schedules = try await server.client.expectSuccess(.GET, "/v2/schedules").listItems
        print(TextTable.render(
            schedules, empty: "no schedules", .field("ID", "scheduleId"), .field("TARGET", "target"), .field("CRON", "cron"),
            .field("TIMEZONE", "timezone"), .field("NEXT FIRE", "nextFire"), .field("LAST FIRE", "lastFire"), .field("PAUSED", "isPaused")))
    }
}
