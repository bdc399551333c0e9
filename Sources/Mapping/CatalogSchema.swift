import Catalog

extension MappingSchema {
    /// The mapping engine's view of a loaded catalog: resources, code tables and its identifier rules.
    public init(catalog: Catalog) {
        let resources = catalog.resources.map { resource in
            var target = TargetResource(name: resource.name, identityKey: resource.identityKey, fields: resource.fields.map { field in
                TargetField(name: field.name, type: TargetType(field.type), required: field.required,
                            identifierRule: field.identifierRule?.rawValue)
            })
            target.hasMatchRules = resource.matching != nil
            return target
        }
        var tables: [String: Set<String>] = [:]
        for table in catalog.codeTables { tables[table.name] = Set(table.entries.map(\.code)) }
        self.init(resources: resources, codeTables: tables, rules: CatalogRules(catalog: catalog),
                  departments: catalog.departments.map(\.id))
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

    public func identifierNormalizer(rule: String) -> IdentifierNormalizer? {
        guard let identifier = IdentifierRule(rawValue: rule) else { return nil }
        let today = today
        if identifier == .citizenID {
            return { text in
                if Self.isCanonicalCitizenID(text, today: today) { return .valid(text) }
                return Self.outcome(identifier.normalize(text, today: today), rule: rule)
            }
        }
        return { text in Self.outcome(identifier.normalize(text, today: today), rule: rule) }
    }

    /// Fast path for the common case, a citizen ID already in canonical form: the same checks as
    /// `CitizenID.normalize` accepts without warnings (17 digits + check character, known province,
    /// real birth date from 1800 on, not in the future), on the bytes, with no allocation.
    /// Anything else goes through the catalog rule, which gives the reason.
    static func isCanonicalCitizenID(_ text: String, today: CivilDate) -> Bool {
        guard text.utf8.count == 18 else { return false }
        return text.utf8.withContiguousStorageIfAvailable { b -> Bool in
            var sum = 0
            for k in 0..<17 {
                let d = b[k] &- 0x30
                guard d < 10 else { return false }
                sum += Int(d) * citizenWeights[k]
            }
            guard b[17] == citizenChecks[sum % 11] else { return false }
            func digits(_ from: Int, _ to: Int) -> Int {
                var v = 0
                for k in from..<to { v = v * 10 + Int(b[k] &- 0x30) }
                return v
            }
            guard CitizenID.provinceCodes.contains(digits(0, 2)),
                  let birth = CivilDate(year: digits(6, 10), month: digits(10, 12), day: digits(12, 14)),
                  birth.year >= 1800, !(birth > today) else { return false }
            return true
        } ?? false
    }

    static let citizenWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let citizenChecks: [UInt8] = Array("10X98765432".utf8)

    public func normalizeDate(_ text: String) -> RuleOutcome {
        // Fast path: YYYYMMDD, the most common shape (DateParser accepts it the same way, no warnings).
        if text.utf8.count == 8, let formatted = Self.compactDate(text) { return .valid(formatted) }
        // DateParser.parse rather than normalizeDate: the text is formatted here without Foundation.
        switch DateParser.parse(text, today: today) {
        case .success(let parsed):
            let d = parsed.date
            let formatted = DateMath.format(year: d.year, month: d.month, day: d.day)
            if let warning = parsed.warnings.first {
                return .warning(formatted, rule: "date.\(warning.code)", message: warning.description)
            }
            return .valid(formatted)
        case .failure(let rejection):
            return .invalid(rule: "date.\(rejection.code)", message: rejection.description)
        }
    }

    public func normalizeDateTime(_ text: String) -> RuleOutcome {
        Self.outcome(DateParser.normalizeDateTime(text, today: today), rule: "datetime")
    }

    static func compactDate(_ text: String) -> String? {
        text.utf8.withContiguousStorageIfAvailable { b -> String? in
            var year = 0, month = 0, day = 0
            for k in 0..<8 {
                let d = b[k] &- 0x30
                guard d < 10 else { return nil }
                if k < 4 { year = year * 10 + Int(d) } else if k < 6 { month = month * 10 + Int(d) } else { day = day * 10 + Int(d) }
            }
            guard CivilDate(year: year, month: month, day: day) != nil else { return nil }
            return DateMath.format(year: year, month: month, day: day)
        } ?? nil
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
