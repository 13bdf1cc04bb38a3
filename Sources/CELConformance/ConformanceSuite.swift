import Foundation
import StepwiseExpressions

/// Loads the conformance cases from a directory of the suite's JSON files.
public enum ConformanceSuite {
    /// A file of the suite that could not be read or understood.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every case of every `*.json` file in `directory`, in file order.
    public static func load(directory: String) throws -> [ConformanceCase] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw LoadError(description: "cannot list conformance directory '\(directory)': \(error.localizedDescription)")
        }
        var cases: [ConformanceCase] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LoadError(description: "cannot read \(path)")
            }
            cases += try parse(Value(json: text), file: String(file.dropLast(5)))
        }
        return cases
    }

    private static func parse(_ document: Value, file: String) throws -> [ConformanceCase] {
        guard case .list(let sections) = document["section"] ?? .null else {
            throw LoadError(description: "\(file): no 'section' list")
        }
        var cases: [ConformanceCase] = []
        for section in sections {
            let sectionName = section["name"].flatMap(\.stringValue) ?? "?"
            guard case .list(let tests) = section["test"] ?? .list([]) else { continue }
            for test in tests {
                cases.append(try parseCase(test, prefix: "\(file)/\(sectionName)"))
            }
        }
        return cases
    }

    private static func parseCase(_ test: Value, prefix: String) throws -> ConformanceCase {
        let name = test["name"].flatMap(\.stringValue) ?? "?"
        let identifier = "\(prefix)/\(name)"
        guard let expression = test["expr"].flatMap(\.stringValue) else {
            throw LoadError(description: "\(identifier): no 'expr'")
        }
        var bindings: [String: Value] = [:]
        if case .map(let map) = test["bindings"] ?? .null {
            for (key, binding) in map.entries {
                guard let value = binding["value"] else { throw LoadError(description: "\(identifier): binding without value") }
                bindings[key.text] = try ProtoValue.decode(value, context: identifier)
            }
        }
        let expectation: ConformanceCase.Expectation
        if test["eval_error"] != nil {
            expectation = .error
        } else if let value = test["value"] {
            expectation = .value(try ProtoValue.decode(value, context: identifier))
        } else {
            // The suite's convention: a case without an expected result must evaluate to true.
            expectation = .value(.bool(true))
        }
        return ConformanceCase(identifier: identifier, expression: expression, bindings: bindings, expectation: expectation)
    }
}

extension Value {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
