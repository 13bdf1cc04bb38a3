/// The stable codes of workflow diagnostics. Codes never change meaning; tools and suppressions
/// may rely on them. `docs/diagnostics.md` explains each.
public enum DiagnosticCode: String, Sendable, Hashable, CaseIterable, Codable {
    // YAML
    case yamlSyntax = "SW001"
    case duplicateKey = "SW002"
    case documentTooLarge = "SW003"
    case documentTooDeep = "SW004"
    case unquotedTemplate = "SW005"
    case yamlBooleanWord = "SW006"
    case notAWorkflow = "SW007"
    // Structure
    case unknownKey = "SW010"
    case missingKey = "SW011"
    case wrongType = "SW012"
    case invalidValue = "SW013"
    case stepWithoutKind = "SW020"
    case stepWithSeveralKinds = "SW021"
    case invalidIdentifier = "SW022"
    case duplicateIdentifier = "SW023"
    case invalidWorkflowName = "SW024"
    case emptySteps = "SW025"
    // Values
    case invalidDuration = "SW030"
    case invalidCron = "SW031"
    case invalidTimeZone = "SW032"
    case invalidTimestamp = "SW033"
    case invalidURL = "SW034"
    case invalidInputSchema = "SW035"
    case reservedFlowControlKey = "SW036"
    // Expressions
    case expressionSyntax = "SW040"
    case unknownName = "SW041"
    case expressionType = "SW042"
    case unknownFunction = "SW043"
    // References
    case referenceToLaterStep = "SW050"
    case referenceToUnknownStep = "SW051"
    case referenceToParallelSibling = "SW052"
    case referenceToConditionalStep = "SW053"
    case undeclaredInputField = "SW054"
    case variableOutOfScope = "SW055"
    case unknownWorkflow = "SW056"
    case fieldOfSkippableStep = "SW057"
    // Secrets
    case undeclaredSecret = "SW060"
    case secretOutsideAuth = "SW061"
    case secretInExpression = "SW062"
    // Flow
    case waitWithoutTimeout = "SW070"
    case unreachableStep = "SW071"
    case timeoutWithoutEffect = "SW072"
    case retryOnAResult = "SW073"

    /// Errors stop a deploy; warnings point at likely mistakes that still run.
    public var defaultSeverity: Severity {
        switch self {
        case .yamlBooleanWord, .undeclaredInputField, .fieldOfSkippableStep, .waitWithoutTimeout, .unreachableStep, .timeoutWithoutEffect, .retryOnAResult: .warning
        default: .error
        }
    }

    /// Whether the rule binds new versions only: it came after versions that break it may have
    /// been stored, and their runs, started under them, go on (a new start is refused at run time).
    public var bindsNewVersionsOnly: Bool { self == .reservedFlowControlKey }

    /// A short kebab-case name, shown in SARIF rules and documentation.
    public var name: String {
        switch self {
        case .yamlSyntax: "yaml-syntax"
        case .duplicateKey: "duplicate-key"
        case .documentTooLarge: "document-too-large"
        case .documentTooDeep: "document-too-deep"
        case .unquotedTemplate: "unquoted-template"
        case .yamlBooleanWord: "yaml-boolean-word"
        case .notAWorkflow: "not-a-workflow"
        case .unknownKey: "unknown-key"
        case .missingKey: "missing-key"
        case .wrongType: "wrong-type"
        case .invalidValue: "invalid-value"
        case .stepWithoutKind: "step-without-kind"
        case .stepWithSeveralKinds: "step-with-several-kinds"
        case .invalidIdentifier: "invalid-identifier"
        case .duplicateIdentifier: "duplicate-identifier"
        case .invalidWorkflowName: "invalid-workflow-name"
        case .emptySteps: "empty-steps"
        case .invalidDuration: "invalid-duration"
        case .invalidCron: "invalid-cron"
        case .invalidTimeZone: "invalid-time-zone"
        case .invalidTimestamp: "invalid-timestamp"
        case .invalidURL: "invalid-url"
        case .invalidInputSchema: "invalid-input-schema"
        case .reservedFlowControlKey: "reserved-flow-control-key"
        case .expressionSyntax: "expression-syntax"
        case .unknownName: "unknown-name"
        case .expressionType: "expression-type"
        case .unknownFunction: "unknown-function"
        case .referenceToLaterStep: "reference-to-later-step"
        case .referenceToUnknownStep: "reference-to-unknown-step"
        case .referenceToParallelSibling: "reference-to-parallel-sibling"
        case .referenceToConditionalStep: "reference-to-conditional-step"
        case .undeclaredInputField: "undeclared-input-field"
        case .variableOutOfScope: "variable-out-of-scope"
        case .unknownWorkflow: "unknown-workflow"
        case .fieldOfSkippableStep: "field-of-skippable-step"
        case .undeclaredSecret: "undeclared-secret"
        case .secretOutsideAuth: "secret-outside-auth"
        case .secretInExpression: "secret-in-expression"
        case .waitWithoutTimeout: "wait-without-timeout"
        case .unreachableStep: "unreachable-step"
        case .timeoutWithoutEffect: "timeout-without-effect"
        case .retryOnAResult: "retry-on-a-result"
        }
    }
}
