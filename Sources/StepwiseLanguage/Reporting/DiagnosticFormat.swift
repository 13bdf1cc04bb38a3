import StepwiseExpressions

/// The output formats of `stepwise validate`.
public enum DiagnosticFormat: String, Sendable, CaseIterable {
    /// Compiler style: `file:line:col: error[SW012]: message`, the source line and a caret.
    case text
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`), shown as annotations.
    case github
    /// One JSON document with every diagnostic.
    case json
    /// SARIF 2.1.0, for code scanning.
    case sarif

    /// The report for `files`.
    public func render(_ files: [WorkflowFile]) -> String {
        switch self {
        case .text: TextReport.render(files)
        case .github: GitHubReport.render(files)
        case .json: JSONReport.render(files)
        case .sarif: SARIFReport.render(files)
        }
    }
}

/// Compiler-style text with a caret under each problem and a summary line.
enum TextReport {
    static func render(_ files: [WorkflowFile]) -> String {
        var output = ""
        for file in files {
            for diagnostic in file.diagnostics {
                output += "\(file.path):\(diagnostic.span): \(diagnostic.severity.rawValue)[\(diagnostic.code.rawValue)]: \(diagnostic.message)\n"
                output += snippet(of: file.source, at: diagnostic.span)
                if let hint = diagnostic.hint { output += "   = hint: \(hint)\n" }
            }
        }
        output += summary(files)
        return output
    }

    private static func snippet(of source: String, at span: SourceSpan) -> String {
        let lines = LineBreaks.normalized(source).split(separator: "\n", omittingEmptySubsequences: false)
        guard span.line >= 1, span.line <= lines.count else { return "" }
        let number = String(span.line)
        let gutter = String(repeating: " ", count: number.count)
        let line = lines[span.line - 1]
        let padding = line.unicodeScalars.prefix(max(0, span.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
        return "\(gutter) |\n\(number) | \(line)\n\(gutter) | \(padding)^\n"
    }

    static func summary(_ files: [WorkflowFile]) -> String {
        let errors = files.reduce(0) { $0 + $1.diagnostics.filter { $0.severity == .error }.count }
        let warnings = files.reduce(0) { $0 + $1.diagnostics.filter { $0.severity == .warning }.count }
        let checked = "\(files.count) file\(files.count == 1 ? "" : "s") checked"
        return "\(checked): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
    }
}

/// GitHub Actions annotations: one workflow command per diagnostic.
enum GitHubReport {
    static func render(_ files: [WorkflowFile]) -> String {
        var output = ""
        for file in files {
            for diagnostic in file.diagnostics {
                let command = diagnostic.severity == .error ? "error" : "warning"
                let title = "\(diagnostic.code.rawValue) \(diagnostic.code.name)"
                let message = diagnostic.message + (diagnostic.hint.map { "\nhint: \($0)" } ?? "")
                output += "::\(command) file=\(property(file.path)),line=\(diagnostic.span.line),col=\(diagnostic.span.column),title=\(property(title))::\(data(message))\n"
            }
        }
        return output + TextReport.summary(files)
    }

    private static func data(_ text: String) -> String {
        text.replacingAll("%", with: "%25").replacingAll("\r", with: "%0D").replacingAll("\n", with: "%0A")
    }

    private static func property(_ text: String) -> String {
        data(text).replacingAll(":", with: "%3A").replacingAll(",", with: "%2C")
    }
}

/// Every diagnostic as one JSON document.
enum JSONReport {
    static func render(_ files: [WorkflowFile]) -> String {
        let diagnostics: [Value] = files.flatMap { file in
            file.diagnostics.map { diagnostic in
                var entry: [(String, Value)] = [
                    ("file", .string(file.path)), ("line", .int(Int64(diagnostic.span.line))),
                    ("column", .int(Int64(diagnostic.span.column))), ("severity", .string(diagnostic.severity.rawValue)),
                    ("code", .string(diagnostic.code.rawValue)), ("name", .string(diagnostic.code.name)),
                    ("message", .string(diagnostic.message)),
                ]
                if let hint = diagnostic.hint { entry.append(("hint", .string(hint))) }
                return .map(ValueMap(entry))
            }
        }
        let count = { (severity: Severity) in Int64(files.reduce(0) { $0 + $1.diagnostics.filter { $0.severity == severity }.count }) }
        let report = ValueMap([
            ("files", .int(Int64(files.count))), ("errors", .int(count(.error))), ("warnings", .int(count(.warning))),
            ("diagnostics", .list(diagnostics)),
        ])
        return Value.map(report).jsonText(pretty: true) + "\n"
    }
}

/// SARIF 2.1.0 for GitHub code scanning and other tools.
enum SARIFReport {
    static func render(_ files: [WorkflowFile]) -> String {
        let rules: [Value] = DiagnosticCode.allCases.map { code in
            .map(ValueMap([
                ("id", .string(code.rawValue)), ("name", .string(code.name)),
                ("shortDescription", .map(ValueMap([("text", .string(code.name.replacingAll("-", with: " ")))]))),
                ("defaultConfiguration", .map(ValueMap([("level", .string(code.defaultSeverity.rawValue))]))),
            ]))
        }
        let results: [Value] = files.flatMap { file in
            file.diagnostics.map { diagnostic in
                let region = ValueMap([("startLine", .int(Int64(diagnostic.span.line))), ("startColumn", .int(Int64(diagnostic.span.column)))])
                let location = ValueMap([
                    ("physicalLocation", .map(ValueMap([
                        ("artifactLocation", .map(ValueMap([("uri", .string(file.path))]))), ("region", .map(region)),
                    ]))),
                ])
                let text = diagnostic.message + (diagnostic.hint.map { " (hint: \($0))" } ?? "")
                return .map(ValueMap([
                    ("ruleId", .string(diagnostic.code.rawValue)), ("level", .string(diagnostic.severity.rawValue)),
                    ("message", .map(ValueMap([("text", .string(text))]))), ("locations", .list([.map(location)])),
                ]))
            }
        }
        let driver = ValueMap([
            ("name", .string("stepwise")), ("informationUri", .string("https://github.com/stepwise/stepwise")),
            ("rules", .list(rules)),
        ])
        let run = ValueMap([("tool", .map(ValueMap([("driver", .map(driver))]))), ("results", .list(results))])
        let log = ValueMap([
            ("$schema", .string("https://json.schemastore.org/sarif-2.1.0.json")), ("version", .string("2.1.0")),
            ("runs", .list([.map(run)])),
        ])
        return Value.map(log).jsonText(pretty: true) + "\n"
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
