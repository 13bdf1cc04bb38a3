/// What an expression may refer to: the variables in scope and what is known of their types.
public struct CheckEnvironment: Sendable {
    /// Declared variables; `.dyn` when the type is not known statically.
    public var variables: [String: CheckedType]
    /// What is known of the fields of map variables: `input.name` of a schema that says string,
    /// `run.id`. A field not listed is `dyn`.
    public var fieldTypes: [String: [String: CheckedType]] = [:]

    public init(variables: [String: CheckedType] = [:], fieldTypes: [String: [String: CheckedType]] = [:]) {
        self.variables = variables
        self.fieldTypes = fieldTypes
    }

    /// An environment declaring each name with an unknown type.
    public init(names: [String]) {
        variables = Dictionary(names.map { ($0, CheckedType.dyn) }, uniquingKeysWith: { first, _ in first })
    }

    func binding(_ names: [String], as type: CheckedType = .dyn) -> CheckEnvironment {
        var environment = self
        for name in names {
            environment.variables[name] = type
            // A bound name (a macro's variable) shadows the variable's known fields.
            environment.fieldTypes[name] = nil
        }
        return environment
    }
}
