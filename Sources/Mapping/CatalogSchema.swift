import Catalog

extension MappingSchema {
    /// The mapping engine's view of a loaded catalog: resources, code tables and its identifier rules.
    public init(catalog: Catalog) {
        let resources = catalog.resources.map { resource in
            TargetResource(name: resource.name, identityKey: resource.identityKey, fields: resource.fields.map { field in
                TargetField(name: field.name, type: TargetType(field.type), required: field.required,
                            identifierRule: field.identifierRule?.rawValue)
            })
        }
        var tables: [String: Set<String>] = [:]
        for table in catalog.codeTables { tables[table.name] = Set(table.entries.map(\.code)) }
        self.init(resources: resources, codeTables: tables, rules: CatalogRules(catalog: catalog))
    }

    /// Loads the catalog folder and builds the schema.
    public static func load(catalogDirectory: String) throws(CatalogLoadError) -> MappingSchema {
        MappingSchema(catalog: try Catalog.load(directory: catalogDirectory))
    }
}

extension TargetType {
    init(_ type: FieldType) {
        switch type {
        case .string: self = .string
        case .code(let t): self = .code(table: t)
        case .date: self = .date
        case .datetime: self = .datetime
        case .integer: self = .integer
        case .decimal: self = .decimal
        case .boolean: self = .boolean
        case .reference(let r): self = .reference(resource: r)
        }
    }
}

/// The Catalog module's identifier rules, date parser and width folding behind `MappingRules`.
/// Issue rule codes are `<rule>.<reason>`: `citizen_id.excel_damaged`, `date.invalid_date`.
public struct CatalogRules: MappingRules {
    let today: CivilDate
    let codeTables: [String: CodeTable]

    public init(catalog: Catalog, today: CivilDate = .today()) {
        self.today = today
        codeTables = Dictionary(catalog.codeTables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public var identifierRuleNames: [String] { IdentifierRule.allCases.map(\.rawValue) }

    public func normalizeIdentifier(rule: String, _ text: String) -> RuleOutcome {
        guard let identifier = IdentifierRule(rawValue: rule) else {
            return .invalid(rule: "\(rule).unknown_rule", message: "the catalog has no identifier rule with this name")
        }
        return Self.outcome(identifier.normalize(text, today: today), rule: rule)
    }

    public func normalizeDate(_ text: String) -> RuleOutcome {
        Self.outcome(DateParser.normalizeDate(text, today: today), rule: "date")
    }

    public func normalizeDateTime(_ text: String) -> RuleOutcome {
        Self.outcome(DateParser.normalizeDateTime(text, today: today), rule: "datetime")
    }

    public func foldWidth(_ text: String) -> String { TextNormalizer.fold(text) }

    public func normalizeCode(table: String, _ text: String) -> String? {
        codeTables[table]?.normalizedCode(text)
    }

    static func outcome(_ result: IdentifierResult, rule: String) -> RuleOutcome {
        switch result {
        case .success(let value):
            if let warning = value.warnings.first {
                return .warning(value.normalized, rule: "\(rule).\(warning.code)", message: warning.description)
            }
            return .valid(value.normalized)
        case .failure(let rejection):
            return .invalid(rule: "\(rule).\(rejection.code)", message: rejection.description)
        }
    }
}
