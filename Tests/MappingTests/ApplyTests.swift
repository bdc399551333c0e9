import Testing
@testable import Mapping
import SourceFormats

@Suite struct ApplyTests {
    @Test func householdRosterYieldsHouseholdAndMembers() throws {
        let plan = try compile("""
        {
          id: "roster", version: 3,
          source: { adapter: "police", department: "police", format: "json", key: "HH" },
          crosswalks: { rel: { "户主": "02", "妻": "12", "长子": "21" } },
          outputs: [
            { resource: "Household", fields: { household_number: "HH", registration_office: { from: "DJJG", transforms: ["trim"] }, address: "ZZ" } },
            { resource: "Person", each: "members", partial: true, fields: {
                citizen_id: { from: "SFZH", transforms: ["fold_width", "upper"] },
                name: "XM",
                relationship: { from: "GX", crosswalk: "rel" },
                household: { from: "$.HH" },
            } },
          ],
        }
        """)
        let members: SourceValue = .array([
            .object(SourceObject([("SFZH", .string("11010519491231002x")), ("XM", .string("张三")), ("GX", .string("户主"))])),
            .object(SourceObject([("SFZH", .string("４４０５２４１８８００１０１００１４")), ("XM", .string("李四")), ("GX", .string(" 妻 "))])),
        ])
        var r = record([("HH", .string("H001")), ("DJJG", .string(" 510108 ")), ("ZZ", .string("某路1号")), ("members", members)])
        r.sourceKey = "H001"
        let result = plan.apply(r)
        #expect(result.issues.isEmpty)
        #expect(result.records.map(\.resource) == ["Household", "Person", "Person"])
        let household = result.records[0]
        #expect(household.identity == ["household_number": "H001", "registration_office": "510108"])
        #expect(household.fieldsJSON() == #"{"household_number":"H001","registration_office":"510108","address":"某路1号"}"#)
        #expect(result.records[1].identity == ["citizen_id": "11010519491231002X"])
        #expect(result.records[2]["citizen_id"] == .string("440524188001010014"))
        #expect(result.records[2]["relationship"] == .code("12"))
        #expect(result.records[1]["household"] == .string("H001"))
        #expect(result.records[1].mappingId == "roster")
        #expect(result.records[1].mappingVersion == 3)
        #expect(result.records[1].sourceKey == "H001")
        // Fields come in catalog order, whatever the mapping's order.
        #expect(result.records[1].fields.map(\.name) == ["citizen_id", "name", "relationship", "household"])
    }

    @Test func marriageUpdatesBothPersonsOrNeither() throws {
        let plan = try compile("""
        {
          id: "marriage", version: 1,
          source: { adapter: "civil", department: "civil-affairs", format: "csv" },
          crosswalks: { type: { "结婚": "20", "离婚": "40" } },
          outputs: [
            { resource: "Person", partial: true, fields: { citizen_id: "MAN_ID", marital_status: { from: "TYPE", crosswalk: "type" } } },
            { resource: "Person", partial: true, fields: { citizen_id: "WOMAN_ID", marital_status: { from: "TYPE", crosswalk: "type" } } },
          ],
        }
        """)
        let ok = plan.apply(record([("MAN_ID", .string("11010519491231002X")), ("WOMAN_ID", .string("440524188001010014")), ("TYPE", .string("结婚"))]))
        #expect(ok.records.count == 2)
        #expect(ok.records.allSatisfy { $0["marital_status"] == .code("20") })
        let bad = plan.apply(record([("MAN_ID", .string("11010519491231002X")), ("WOMAN_ID", .string("4.40524E+17")), ("TYPE", .string("结婚"))], line: 12))
        #expect(bad.rejected)
        #expect(bad.records.isEmpty)
        let issue = try #require(bad.issues.first)
        #expect(issue.rule == "citizen_id.excel_damaged")
        #expect(issue.field == "Person.citizen_id")
        #expect(issue.sourcePath == "WOMAN_ID")
        #expect(issue.locator.line == 12)
        #expect(issue.value == "4.40524E+17")
        #expect(issue.description == "in.json:12 [0]: error: Person.citizen_id (WOMAN_ID): damaged by a spreadsheet [citizen_id.excel_damaged]")
    }

    @Test func issuesNeverPrintValues() throws {
        let plan = try compile(personMapping("""
        name: "XM",
        sex: { from: "XB", crosswalk: "sex" },
        date_of_birth: "CSRQ",
        family_size: "N",
        """, extra: #"crosswalks: { sex: { "男": "1" } },"#))
        let result = plan.apply(record([("ID", .string("11010519491231002Y")), ("XM", .string("王小明")), ("XB", .string("男人")),
                                        ("CSRQ", .string("19850399")), ("N", .string("三"))]))
        #expect(result.rejected)
        let text = result.issues.map(\.description).joined(separator: "\n")
        for secret in ["11010519491231002Y", "王小明", "男人", "19850399", "三"] { #expect(!text.contains(secret)) }
        #expect(Set(result.issues.map(\.rule)) == ["citizen_id.check_digit", "crosswalk.unknown", "date.invalid", "integer.invalid"])
        // Optional fields that fail are warnings (field dropped), the identity failure rejects.
        #expect(result.issues.filter { $0.severity == .error }.map(\.rule) == ["citizen_id.check_digit"])
    }

    @Test func identityAndRequiredMissing() throws {
        let plan = try compile("""
        { id: "t", version: 1, source: { adapter: "a", department: "d", format: "json" },
          outputs: [{ resource: "Person", fields: { citizen_id: "ID", name: "XM" } }] }
        """)
        let noID = plan.apply(record([("XM", .string("x"))]))
        #expect(noID.issues.map(\.rule) == ["identity.missing"])
        #expect(noID.records.isEmpty)
        let noName = plan.apply(record([("ID", .string("11010519491231002X")), ("XM", .string("  "))]))
        #expect(noName.issues.map(\.rule) == ["required.missing"])
    }

    @Test func everyTransform() throws {
        let plan = try compile(personMapping("""
        name: { from: ["XING", "MING"], separator: "", transforms: ["trim", "remove_spaces"] },
        note: { from: "CODE", transforms: [{regex: {pattern: "([A-Z]+)-(\\\\d+)", group: 2}}, {pad: {length: 6, with: "0"}}, {prefix: "N"}, {suffix: "!"}, "lower", "upper"] },
        sex: { from: "PARTS", transforms: [{split: {separator: "|", index: -1}}, {replace: {from: "M", to: "1"}}] },
        date_of_birth: { from: "BIRTH", transforms: [{date: ["yyyy年M月d日", "dd.MM.yyyy"]}] },
        household: { from: "TAGS", transforms: [{join: "/"}] },
        mobile: { from: "TEL", transforms: ["fold_width"] },
        disabled: { from: "CJ", transforms: [{boolean: {true: ["残疾"], false: ["健全"]}}] },
        family_size: "SIZE",
        amount: "AMOUNT",
        updated_at: "TS",
        marital_status: { default: "90", from: "HY" },
        relationship: { const: "02" },
        """))
        let r = plan.apply(record([
            ("ID", .string("11010519491231002X")), ("XING", .string(" 欧阳 ")), ("MING", .string("小 明")),
            ("CODE", .string("ab AB-42 x")), ("PARTS", .string("x|M")), ("BIRTH", .string("1985年3月2日")),
            ("TAGS", .array([.string("a"), .string("b")])), ("TEL", .string("１３８００１３８０００")), ("CJ", .string("残疾")),
            ("SIZE", .number("003")), ("AMOUNT", .string("0450.50")), ("TS", .string("2024-05-06 07:08")),
        ]))
        #expect(r.issues.isEmpty)
        let p = try #require(r.records.first)
        #expect(p["name"] == .string("欧阳小明"))
        #expect(p["note"] == .string("N000042!"))
        #expect(p["sex"] == .code("1"))
        #expect(p["date_of_birth"] == .date("1985-03-02"))
        #expect(p["household"] == .string("a/b"))
        #expect(p["mobile"] == .string("13800138000"))
        #expect(p["disabled"] == .boolean(true))
        #expect(p["family_size"] == .integer("3"))
        #expect(p["amount"] == .decimal("450.5"))
        #expect(p["updated_at"] == .datetime("2024-05-06T07:08:00+08:00"))
        #expect(p["marital_status"] == .code("90"))
        #expect(p["relationship"] == .code("02"))
        #expect(p.fieldsJSON().contains(#""family_size":3,"amount":450.5,"disabled":true"#))
        // Second format of the date list, Excel serial through the catalog rules, regex miss -> missing.
        let r2 = plan.apply(record([("ID", .string("11010519491231002X")), ("XING", .string("张")), ("BIRTH", .string("02.03.1985")),
                                    ("CODE", .string("none")), ("HY", .string("20"))]))
        #expect(r2.records.first?["date_of_birth"] == .date("1985-03-02"))
        #expect(r2.records.first?["note"] == nil)
        #expect(r2.records.first?["marital_status"] == .code("20"))
        let r3 = plan.apply(record([("ID", .string("11010519491231002X")), ("BIRTH", .string("31118"))]))
        #expect(r3.records.first?["date_of_birth"] == .date("1985-03-12"))
    }

    @Test func conditionsSkipRecordsOutputsAndFields() throws {
        let plan = try compile(personMapping("""
        name: { from: "XM", skipWhen: { field: "XM", matches: "^测试" } },
        note: { from: "BZ", skipWhen: { any: [{ field: "BZ", empty: true }, { not: { field: "SHOW", equals: ["1", "Y"] } }] } },
        """, extra: #"skip: { all: [{ field: "ZX", equals: "1" }, { field: "ZXRQ", present: true }] },"#))
        #expect(plan.apply(record([("ID", .string("11010519491231002X")), ("ZX", .string("1")), ("ZXRQ", .string("2020"))])).skipped)
        let kept = plan.apply(record([("ID", .string("11010519491231002X")), ("ZX", .string("1")), ("XM", .string("测试用户")), ("BZ", .string("b")), ("SHOW", .string("Y"))]))
        #expect(!kept.skipped)
        #expect(kept.records.first?["name"] == nil)
        #expect(kept.records.first?["note"] == .string("b"))
        let hidden = plan.apply(record([("ID", .string("11010519491231002X")), ("BZ", .string("b")), ("SHOW", .string("0"))]))
        #expect(hidden.records.first?["note"] == nil)
    }

    @Test func onInvalidPolicyAndWarnings() throws {
        let plan = try compile(personMapping("""
        mobile: "TEL",
        sex: { from: "XB", onInvalid: "reject" },
        """))
        let warned = plan.apply(record([("ID", .string("11010519491231002X")), ("TEL", .string("12345")), ("XB", .string("1"))]))
        #expect(!warned.rejected)
        #expect(warned.issues.map(\.rule) == ["mobile.format"])
        #expect(warned.records.first?["mobile"] == .string("12345"))
        let rejected = plan.apply(record([("ID", .string("11010519491231002X")), ("XB", .string("男"))]))
        #expect(rejected.rejected)
        #expect(rejected.issues.map(\.rule) == ["code.unknown"])
    }

    @Test func xmlAttributesAndNestedPaths() throws {
        let plan = try compile(personMapping(#"name: "AAB.NAME", note: "@seq", family_size: "LIST[1]","#))
        let r = plan.apply(record([("@seq", .string("7")), ("ID", .string("11010519491231002X")),
                                   ("AAB", .object(SourceObject([("NAME", .string("x"))]))), ("LIST", .array([.string("1"), .string("2")]))]))
        #expect(r.records.first?["name"] == .string("x"))
        #expect(r.records.first?["note"] == .string("7"))
        #expect(r.records.first?["family_size"] == .integer("2"))
    }

    @Test func valueNormalizers() {
        #expect(ValueNormalizer.integer("-007") == "-7")
        #expect(ValueNormalizer.integer("-0") == "0")
        #expect(ValueNormalizer.integer("1.5") == nil)
        #expect(ValueNormalizer.decimal("-0012.500") == "-12.5")
        #expect(ValueNormalizer.decimal(".5") == "0.5")
        #expect(ValueNormalizer.decimal("3.") == "3")
        #expect(ValueNormalizer.decimal("1,000") == nil)
        #expect(ValueNormalizer.boolean("是") == true)
        #expect(ValueNormalizer.boolean("maybe") == nil)
        #expect(ValueNormalizer.datetime("2024-02-30 10:00", rules: TestRules()) == nil)
        #expect(ValueNormalizer.datetime("2024-02-29T10:00:05Z", rules: TestRules()) == "2024-02-29T10:00:05Z")
        #expect(DatePattern("yyMMdd").parse("850312", currentYear: 2026) == "1985-03-12")
        #expect(DatePattern("yyMMdd").parse("200312", currentYear: 2026) == "2020-03-12")
        #expect(DatePattern("yyyyMMdd").parse("19850230", currentYear: 2026) == nil)
        #expect(ValueMasking.mask("11010519491231002X") == "110*************2X")
        #expect(ValueMasking.mask("张三") == "张*")
        #expect(TextOps.trim("\u{3000} a b \t") == "a b")
    }
}
