/// A parsed CEL expression: a tree of nodes, each with the offset (in Unicode scalars) of the source
/// text it came from, so evaluation and checking errors can point at it.
public struct CELExpression: Sendable, Hashable {
    /// Offset in the source of the token that identifies this node (an operator, a name, a literal).
    public var offset: Int
    public var kind: Kind

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// The forms an expression node takes.
    public indirect enum Kind: Sendable, Hashable {
        case literal(Literal)
        case identifier(String)
        /// `operand.field`, or `operand.?field` when `isOptional`.
        case select(CELExpression, field: String, isOptional: Bool)
        /// `has(operand.field)`.
        case presenceTest(CELExpression, field: String)
        /// `operand[index]`, or `operand[?index]` when `isOptional`.
        case index(CELExpression, CELExpression, isOptional: Bool)
        /// A global function call `name(arguments)`.
        case call(String, [CELExpression])
        /// A receiver-style call `target.name(arguments)`.
        case method(CELExpression, String, [CELExpression])
        case unary(UnaryOperator, CELExpression)
        case binary(BinaryOperator, CELExpression, CELExpression)
        /// `condition ? then : else`.
        case conditional(CELExpression, CELExpression, CELExpression)
        case list([ListElement])
        case map([MapEntry])
        /// The macros that iterate a list or map (`all`, `exists`, `map`, `filter`, …).
        case comprehension(Comprehension)
        /// `cel.bind(name, value, body)`.
        case bind(String, CELExpression, CELExpression)
        /// `optional.optMap(variable, body)` / `optFlatMap`.
        case optionalMap(CELExpression, variable: String, body: CELExpression, isFlat: Bool)
    }
}

/// A literal constant as written in the source.
public enum Literal: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])

    /// The literal's value.
    public var value: Value {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .uint(let u): .uint(u)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .bytes(let b): .bytes(b)
        }
    }
}

/// `!` and unary `-`.
public enum UnaryOperator: String, Sendable, Hashable {
    case not = "!"
    case negate = "-"
}

/// The binary operators, with CEL's precedence (higher binds tighter).
public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case or = "||"
    case and = "&&"
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case `in` = "in"
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case remainder = "%"

    /// 1 for `||` up to 5 for `*`, `/`, `%`; all binary operators are left-associative.
    public var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .in: 3
        case .add, .subtract: 4
        case .multiply, .divide, .remainder: 5
        }
    }
}

/// An element of a list literal; `?expr` adds the element only when the optional has a value.
public struct ListElement: Sendable, Hashable {
    public var value: CELExpression
    public var isOptional: Bool

    public init(_ value: CELExpression, isOptional: Bool = false) {
        self.value = value
        self.isOptional = isOptional
    }
}

/// An entry of a map literal; `?key: expr` adds the entry only when the optional has a value.
public struct MapEntry: Sendable, Hashable {
    public var key: CELExpression
    public var value: CELExpression
    public var isOptional: Bool

    public init(key: CELExpression, value: CELExpression, isOptional: Bool = false) {
        self.key = key
        self.value = value
        self.isOptional = isOptional
    }
}

/// An iterating macro over `range`, binding one variable (the element, or the key of a map) or
/// two (index and element, or key and value).
public struct Comprehension: Sendable, Hashable {
    /// What the macro computes.
    public enum Macro: String, Sendable, Hashable, CaseIterable {
        case all
        case exists
        case existsOne = "exists_one"
        case map
        case filter
        case transformList
        case transformMap
    }

    public var macro: Macro
    /// The method name as written (`exists_one` and `existsOne` are the same macro).
    public var spelling: String
    public var range: CELExpression
    public var variables: [String]
    /// The predicate or transform; for `map`/`transformList`/`transformMap` with a filter, the filter then the transform.
    public var arguments: [CELExpression]

    public init(macro: Macro, spelling: String, range: CELExpression, variables: [String], arguments: [CELExpression]) {
        self.macro = macro
        self.spelling = spelling
        self.range = range
        self.variables = variables
        self.arguments = arguments
    }
}
