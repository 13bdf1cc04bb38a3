import Foundation
import StepwiseTesting
import Testing

/// `stepwise serve` refuses options that would start a node which can never do its work.
@Suite("Serve options")
struct ServeOptionTests {
    @Test("a concurrency or connection limit below one is refused before the store is opened")
    func limitsBelowOne() async throws {
        let folder = try TemporaryDirectory()
        let store = folder.path("store.sqlite")
        for (option, value) in [("--concurrency", "0"), ("--concurrency", "-3"), ("--max-connections", "0")] {
            // `--lease 1s` is refused only after the store is opened: a regression fails instead of serving.
            let arguments = ["serve", "--no-runner", "--store", "sqlite:" + store, "\(option)=\(value)", "--lease", "1s", "--port", "0"]
            let result = try await onOwnThread { try stepwise(arguments: arguments) }
            #expect(result.status == 2, "\(option) \(value)")
            #expect(result.standardError.contains("\(option) must be at least 1"), "\(option) \(value)")
        }
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test("a connection timeout of 0s, a sleep lookahead that is no duration, or a run retention under an hour is refused before the store is opened")
    func durationsOutOfRange() async throws {
        let folder = try TemporaryDirectory()
        let store = folder.path("store.sqlite")
        let refused = [
            ("--idle-timeout", "0s", "--idle-timeout must be longer than 0s"), ("--header-timeout", "0ms", "--header-timeout must be longer than 0s"),
            ("--body-timeout", "0s", "--body-timeout must be longer than 0s"), ("--sleep-lookahead", "-1s", "--sleep-lookahead"),
            ("--sleep-lookahead", "soon", "--sleep-lookahead"), ("--run-retention", "30m", "--run-retention must be at least 1h"),
            ("--run-retention", "30", "--run-retention"),
        ]
        for (option, value, message) in refused {
            let arguments = ["serve", "--no-runner", "--store", "sqlite:" + store, "\(option)=\(value)", "--lease", "1s", "--port", "0"]
            let result = try await onOwnThread { try stepwise(arguments: arguments) }
            #expect(result.status == 2, "\(option) \(value)")
            #expect(result.standardError.contains(message), "\(option) \(value): \(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test("a negative value after its option is that option's value, refused as such, not a missing value; an empty sqlite: path is named")
    func negativeValues() async throws {
        let folder = try TemporaryDirectory()
        let store = "sqlite:" + folder.path("store.sqlite")
        for (option, value, message) in [
            ("--run-retention", "-1d", "'-1d' is invalid for '--run-retention"), ("--lease", "-5s", "'-5s' is invalid for '--lease"),
            ("--shutdown-timeout", "-1s", "'-1s' is invalid for '--shutdown-timeout"), ("--port", "-1", "--port must be a number from 0 to 65535"),
            ("--concurrency", "-3", "--concurrency must be at least 1"), ("--max-connections", "-2", "--max-connections must be at least 1"),
        ] {
            let result = try await onOwnThread { try stepwise(arguments: ["serve", "--no-runner", "--store", store, option, value]) }
            #expect(result.status == 2 && result.standardError.contains(message), "\(option) \(value): \(result.standardError)")
        }
        let empty = try await onOwnThread { try stepwise(arguments: ["serve", "--no-runner", "--store", "sqlite:", "--port", "0"]) }
        #expect(empty.status == 2 && empty.standardError.contains("--store sqlite: names no file"), "\(empty.standardError)")
    }

    @Test("durations are written as in workflows, days and weeks included")
    func durationsInDays() async throws {
        let folder = try TemporaryDirectory()
        let store = folder.path("store.sqlite")
        for retention in ["30d", "2w", "1d12h"] {
            // Refused for its concurrency, which is checked after every option was read.
            let arguments = ["serve", "--no-runner", "--store", "sqlite:" + store, "--run-retention", retention, "--concurrency", "0"]
            let result = try await onOwnThread { try stepwise(arguments: arguments) }
            #expect(result.standardError.contains("--concurrency must be at least 1"), "\(retention): \(result.standardError)")
        }
    }

    @Test("a workflows folder given with --no-runner, or one that does not exist, is refused before the store is opened")
    func workflowsThatWouldNotBeServed() async throws {
        let folder = try TemporaryDirectory()
        let store = folder.path("store.sqlite")
        let both = ["serve", "--no-runner", "--workflows", folder.path(""), "--store", "sqlite:" + store, "--port", "0"]
        let ignored = try await onOwnThread { try stepwise(arguments: both) }
        #expect(ignored.status == 2)
        #expect(ignored.standardError.contains("--no-runner serves no workflows"), "\(ignored.standardError)")
        let missing = ["serve", "--workflows", folder.path("flows"), "--store", "sqlite:" + store, "--port", "0"]
        let absent = try await onOwnThread { try stepwise(arguments: missing) }
        #expect(absent.status == 2)
        #expect(absent.standardError.contains(folder.path("flows")), "\(absent.standardError)")
        #expect(!FileManager.default.fileExists(atPath: store))
    }
}
