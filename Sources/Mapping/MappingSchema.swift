/// What the mapping engine needs to know about the canonical catalog: resources, their fields and
/// identity keys, code tables, and the identifier/date rules. Built from the `Catalog` module
/// (`MappingSchema(catalog:)`), or by hand in tests.
public struct MappingSchema: Sendable {
    public var resources: [String: TargetResource]
    /// Code table name -> valid national codes.
    public var codeTables: [String: Set<String>]
    /// Identifier normalization, date parsing and width folding.
    public var rules: any MappingRules
    /// The catalog's department ids; a mapping's `source.department` must be one (nil: not checked).
    public var departments: [String]?

    public init(resources: [TargetResource], codeTables: [String: Set<String>], rules: any MappingRules,
                departments: [String]? = nil) {
        self.resources = Dictionary(resources.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.codeTables = codeTables
        self.rules = rules
        self.departments = departments
    }
}

/// A canonical resource as the mapping engine sees it.
public struct TargetResource: Sendable {
    public var name: String
    /// Field names that together form the identity key (in order).
    public var identityKey: [String]
    /// Fields in catalog order: canonical records list their fields in this order.
    public var fields: [TargetField]
    /// The catalog declares match rules for the resource, so outputs may be `matchable`.
    public var hasMatchRules = false

    public init(name: String, identityKey: [String], fields: [TargetField]) {
        self.name = name
        self.identityKey = identityKey
        self.fields = fields
    }

    public func field(_ name: String) -> TargetField? { fields.first { $0.name == name } }
}

/// A canonical field: its type, whether it is required, and the identifier rule that normalizes it.
public struct TargetField: Sendable {
    public var name: String
    public var type: TargetType
    public var required: Bool
    /// Identifier rule applied to every value (e.g. `citizen_id`, `uscc`, `mobile`, `landline`).
    public var identifierRule: String?

    public init(name: String, type: TargetType, required: Bool = false, identifierRule: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.identifierRule = identifierRule
    }
}

/// Canonical field types.
public enum TargetType: Sendable, Equatable, CustomStringConvertible {
    case string
    case code(table: String)
    case date
    case datetime
    case integer
    case decimal
    case boolean
    case reference(resource: String)

    public var description: String {
        switch self {
        case .string: "string"
        case .code(let t): "code(\(t))"
        case .date: "date"
        case .datetime: "datetime"
        case .integer: "integer"
        case .decimal: "decimal"
        case .boolean: "boolean"
        case .reference(let r): "reference(\(r))"
        }
    }
}

/// The result of a normalization rule. Messages never contain the value.
public enum RuleOutcome: Sendable, Equatable {
    case valid(String)
    /// Kept, with a warning (e.g. a unified social credit code whose check character fails).
    case warning(String, rule: String, message: String)
    /// Rejected: `rule` is a stable code such as `citizen_id.check_digit`.
    case invalid(rule: String, message: String)
}

/// Identifier, date and text rules from the catalog.
public protocol MappingRules: Sendable {
    /// Names of the identifier rules this catalog knows (validated in mappings).
    var identifierRuleNames: [String] { get }
    /// Normalizes an identifier by rule name.
    func normalizeIdentifier(rule: String, _ text: String) -> RuleOutcome
    /// The normalizer of one rule, resolved once when a plan is compiled (nil: unknown rule).
    func identifierNormalizer(rule: String) -> IdentifierNormalizer?
    /// Parses a date in any of the department formats (incl. Excel serials) to `YYYY-MM-DD`.
    func normalizeDate(_ text: String) -> RuleOutcome
    /// NFKC width folding (full-width digits and letters, U+3000 space).
    func foldWidth(_ text: String) -> String
    /// Date-time in any department format to `YYYY-MM-DDTHH:MM:SS+08:00`.
    func normalizeDateTime(_ text: String) -> RuleOutcome
    /// A code as departments send it (stripped leading zeros, full-width digits) -> the table's
    /// code, or nil. Called only when the value is not already an exact code.
    func normalizeCode(table: String, _ text: String) -> String?
}

/// A resolved identifier rule: text in, outcome out.
public typealias IdentifierNormalizer = @Sendable (String) -> RuleOutcome

extension MappingRules {
    public func identifierNormalizer(rule: String) -> IdentifierNormalizer? {
        guard identifierRuleNames.contains(rule) else { return nil }
        return { [self] text in self.normalizeIdentifier(rule: rule, text) }
    }

    public func normalizeDateTime(_ text: String) -> RuleOutcome {
        if let d = ValueNormalizer.datetime(text, rules: self) { return .valid(d) }
        return .invalid(rule: "datetime.invalid", message: "value is not a date-time")
    }

    public func normalizeCode(table: String, _ text: String) -> String? { nil }
}
