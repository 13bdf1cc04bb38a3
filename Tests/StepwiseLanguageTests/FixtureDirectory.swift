import Foundation

/// Locates the repository's files from the test sources, so tests read real fixtures and examples.
enum FixtureDirectory {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL
    static let invalid = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/invalid")
    static let workflows = repository.appendingPathComponent("workflows")

    /// The YAML files in `folder`, sorted by name.
    static func yamlFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func text(of url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }
}
