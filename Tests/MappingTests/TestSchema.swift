@testable import Mapping
import SourceFormats

/// A test double for the catalog rules: enough of citizen ID and dates to exercise the engine.
/// The real rules are the Catalog module's and are exercised by the mapping tests files.
struct TestRules: MappingRules {
    var identifierRuleNames: [String] { ["citizen_id", "mobile"] }

    func normalizeIdentifier(rule: String, _ text: String) -> RuleOutcome {
        let folded = foldWidth(text).uppercased()
        switch rule {
        case "citizen_id":
            if folded.contains("E+") { return .invalid(rule: "citizen_id.excel_damaged", message: "damaged by a spreadsheet") }
            let chars = Array(folded)
            guard chars.count == 18 else { return .invalid(rule: "citizen_id.length", message: "not 18 characters") }
            let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
            var sum = 0
            for i in 0..<17 { guard let d = chars[i].wholeNumberValue else { return .invalid(rule: "citizen_id.format", message: "not digits") }; sum += d * weights[i] }
            let check = Array("10X98765432")[sum % 11]
            return check == chars[17] ? .valid(folded) : .invalid(rule: "citizen_id.check_digit", message: "check character does not match")
        case "mobile":
            return folded.count == 11 && folded.hasPrefix("1") ? .valid(folded) : .warning(folded, rule: "mobile.format", message: "not a mobile number")
        default:
            return .invalid(rule: "\(rule).unknown", message: "unknown rule")
        }
    }

    func normalizeDate(_ text: String) -> RuleOutcome {
        let t = foldWidth(text)
        if t.count == 8, t.allSatisfy(\.isNumber) {
            let c = Array(t)
            let d = "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))"
            return DateMath.isCanonical(d) ? .valid(d) : .invalid(rule: "date.invalid", message: "not a real date")
        }
        if t.count == 5, let serial = Int(t) {
            // 1900 system: 1899-12-30 + serial days (enough for the test).
            return serial == 31118 ? .valid("1985-03-12") : .invalid(rule: "date.invalid", message: "unsupported in test")
        }
        return .invalid(rule: "date.invalid", message: "value is not a recognised date")
    }

    func foldWidth(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { u in
            if (0xFF01...0xFF5E).contains(u.value) { return Unicode.Scalar(u.value - 0xFEE0)! }
            if u.value == 0x3000 { return " " }
            return u
        }))
    }
}

let testSchema = MappingSchema(
    resources: [
        TargetResource(name: "Person", identityKey: ["citizen_id"], fields: [
            TargetField(name: "citizen_id", type: .string, required: true, identifierRule: "citizen_id"),
            TargetField(name: "name", type: .string, required: true),
            TargetField(name: "sex", type: .code(table: "sex")),
            TargetField(name: "date_of_birth", type: .date),
            TargetField(name: "marital_status", type: .code(table: "marital_status")),
            TargetField(name: "relationship", type: .code(table: "relationship")),
            TargetField(name: "mobile", type: .string, identifierRule: "mobile"),
            TargetField(name: "household", type: .reference(resource: "Household")),
            TargetField(name: "note", type: .string),
            TargetField(name: "family_size", type: .integer),
            TargetField(name: "amount", type: .decimal),
            TargetField(name: "disabled", type: .boolean),
            TargetField(name: "updated_at", type: .datetime),
        ]),
        TargetResource(name: "Household", identityKey: ["household_number", "registration_office"], fields: [
            TargetField(name: "household_number", type: .string, required: true),
            TargetField(name: "registration_office", type: .string, required: true),
            TargetField(name: "address", type: .string),
        ]),
    ],
    codeTables: [
        "sex": ["0", "1", "2", "9"],
        "marital_status": ["10", "20", "21", "22", "23", "30", "40", "90"],
        "relationship": ["01", "02", "10", "11", "12", "20", "21", "22", "30", "31", "99"],
    ],
    rules: TestRules())

func compile(_ text: String) throws -> MappingPlan {
    try MappingPlan.compile(text: text, file: "m.json5", schema: testSchema)
}

func problems(_ text: String) -> [MappingProblem] {
    MappingValidator.validate(text: text, file: "m.json5", schema: testSchema)
}

func record(_ pairs: [(String, SourceValue)], line: Int = 7) -> SourceRecord {
    SourceRecord(fields: SourceObject(pairs), locator: SourceLocator(file: "in.json", line: line, index: 0))
}

/// A minimal valid mapping around one Person output's fields.
func personMapping(_ fields: String, extra: String = "") -> String {
    """
    {
      id: "t", version: 2,
      source: { adapter: "a", department: "police", format: "json" },
      \(extra)
      outputs: [{ resource: "Person", partial: true, fields: {
        citizen_id: "ID",
        \(fields)
      } }],
    }
    """
}
