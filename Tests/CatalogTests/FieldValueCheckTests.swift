import JSON5
import Testing
@testable import Catalog

/// Values an admin gives for a field are checked like department values: type, code table, identifier rule.
@Suite struct FieldValueCheckTests {
    let catalog = try! Catalog.load(directory: catalogDirectory)
    var person: Resource { catalog.resource("Person")! }

    func check(_ field: String, _ value: JSONValue) -> Result<String, FieldValueProblem> {
        person.field(field)!.check(value, catalog: catalog, today: CivilDate(year: 2026, month: 1, day: 1)!)
    }

    @Test func goodValuesComeBackInCanonicalForm() throws {
        #expect(try check("name", .string("张三")).get() == #""张三""#)
        #expect(try check("sex", .string("1")).get() == #""1""#)
        #expect(try check("date_of_birth", .string("1985年3月12日")).get() == #""1985-03-12""#)
        #expect(try check("mobile", .string("+86 138-1234-5678")).get() == #""13812345678""#)
        #expect(try check("deceased", .bool(true)).get() == "true")
    }

    @Test func badValuesNameTheRuleNeverTheValue() {
        let cases: [(String, JSONValue, String)] = [
            ("name", .number("42"), "type.string"), ("sex", .string("7Q"), "code_table.sex"), ("sex", .number("1"), "type.code"),
            ("date_of_birth", .string("1985-13-45"), "type.date"), ("mobile", .string("1234"), "identifier.mobile."),
            ("citizen_id", .string("110105194912310021"), "identifier.citizen_id.check_character_mismatch"),
            ("deceased", .string("yes"), "type.boolean"),
        ]
        for (field, value, rule) in cases {
            guard case .failure(let problem) = check(field, value) else { Issue.record("\(field) accepted a bad value"); continue }
            #expect(problem.rule.hasPrefix(rule), "\(field): \(problem.rule)")
            #expect(!problem.message.contains(value.stringValue ?? value.numberText ?? "\u{0}"), "\(field): \(problem.message)")
        }
    }
}
