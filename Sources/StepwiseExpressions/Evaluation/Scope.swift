/// The variables visible to an expression: the caller's, plus those bound by macros and `cel.bind`.
struct Scope {
    private let globals: [String: Value]
    private var locals: [(name: String, value: Value)] = []
    /// Whether any global name contains a dot (`a.b.c`), which turns on qualified-name resolution.
    let hasQualifiedNames: Bool

    init(_ globals: [String: Value]) {
        self.globals = globals
        // A byte search: Foundation's `contains` on strings costs a bridge per name, per evaluation.
        hasQualifiedNames = globals.keys.contains { $0.utf8.contains(UInt8(ascii: ".")) }
    }

    /// The most recently bound local of a one-variable macro: the element `filter` keeps.
    var firstLocal: Value? { locals.last?.value }

    func lookup(_ name: String) -> Value? {
        for local in locals.reversed() where local.name == name { return local.value }
        return globals[name]
    }

    /// This scope with `name` bound to `value`, shadowing any outer binding.
    func binding(_ name: String, to value: Value) -> Scope {
        var scope = self
        scope.locals.append((name, value))
        return scope
    }

    /// This scope with two more bindings (the variables of a two-variable macro).
    func binding(_ first: String, to firstValue: Value, _ second: String, to secondValue: Value) -> Scope {
        var scope = self
        scope.locals.append((first, firstValue))
        scope.locals.append((second, secondValue))
        return scope
    }
}
