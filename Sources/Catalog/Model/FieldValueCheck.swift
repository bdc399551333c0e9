import JSON5

/// Why an admin's value does not fit a catalog field: the rule it broke, never the value.
public struct FieldValueProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule's stable name (`type.date`, `code_table.marital_status`, `identifier.citizen_id.check_character_mismatch`).
    public let rule: String
    public let message: String
    public var description: String { message }
}

extension Field {
    /// Checks a value an admin gives for this field (a correction or a decided conflict) the way
    /// mappings check department values: the type, the code table, the identifier rule. Returns
    /// the value in canonical form as a JSON literal (identifiers and dates normalized).
    public func check(_ value: JSONValue, catalog: Catalog, today: CivilDate = .today()) -> Result<String, FieldValueProblem> {
        func problem(_ rule: String, _ message: String) -> Result<String, FieldValueProblem> {
            .failure(FieldValueProblem(rule: rule, message: "\(name): \(message)"))
        }
        func text() -> String? {
            switch value {
            case .string(let s): s
            default: nil
            }
        }
        switch type {
        case .string, .reference:
            guard let s = text(), !s.isEmpty else { return problem("type.string", "must be a non-empty string") }
            guard let identifierRule else { return .success(JSONValue.string(s).jsonText()) }
            switch identifierRule.normalize(s, today: today) {
            case .success(let v): return .success(JSONValue.string(v.normalized).jsonText())
            case .failure(let reason):
                return problem("identifier.\(identifierRule.rawValue).\(reason.code)",
                               "does not pass the \(identifierRule.rawValue) rule (\(reason.description))")
            }
        case .code(let table):
            guard let s = text() else { return problem("type.code", "must be a code of the \(table) table, as a string") }
            guard let codes = catalog.codeTable(table) else { return problem("code_table.\(table)", "the code table \(table) is missing") }
            guard let code = codes.normalizedCode(s) else { return problem("code_table.\(table)", "is not a code of the \(table) table") }
            return .success(JSONValue.string(code).jsonText())
        case .date, .datetime:
            let isDate = type == .date
            guard let s = text() else { return problem(isDate ? "type.date" : "type.datetime", "must be a \(type) as a string") }
            switch isDate ? DateParser.normalizeDate(s, today: today) : DateParser.normalizeDateTime(s, today: today) {
            case .success(let v): return .success(JSONValue.string(v.normalized).jsonText())
            case .failure(let reason):
                return problem(isDate ? "type.date" : "type.datetime", "is not a valid \(type) (\(reason.description))")
            }
        case .integer:
            guard case .number(let n) = value, Int64(n) != nil else { return problem("type.integer", "must be a whole number") }
            return .success(n)
        case .decimal:
            guard case .number(let n) = value, Double(n)?.isFinite == true else { return problem("type.decimal", "must be a number") }
            return .success(n)
        case .boolean:
            guard case .bool(let b) = value else { return problem("type.boolean", "must be true or false") }
            return .success(b ? "true" : "false")
        }
    }
}
