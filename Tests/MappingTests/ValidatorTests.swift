import Testing
@testable import Mapping

@Suite struct ValidatorTests {
    @Test func misspelledTargetBadCrosswalkCodeAndMissingIdentityAllReportedWithLines() {
        let text = """
        {
          id: "bad", version: 1,
          source: { adapter: "a", department: "police", format: "json" },
          crosswalks: {
            sex: { "男": "1", "女": "2", "未知": "7" },
          },
          outputs: [{
            resource: "Person",
            partial: true,
            fields: {
              nmae: "XM",
              sex: { from: "XB", crosswalk: "sex" },
            },
          }],
        }
        """
        let found = problems(text)
        let rules = found.map(\.rule)
        #expect(rules.contains("mapping.unknown_target"))
        #expect(rules.contains("mapping.crosswalk_code"))
        #expect(rules.contains("mapping.identity_unmapped"))
        let target = found.first { $0.rule == "mapping.unknown_target" }!
        #expect(target.position?.line == 11)
        #expect(target.path == "outputs[0].fields.nmae")
        #expect(target.message.contains("did you mean 'name'"))
        let code = found.first { $0.rule == "mapping.crosswalk_code" }!
        #expect(code.position?.line == 5)
        #expect(code.path == "crosswalks.sex.未知")
        #expect(found.first { $0.rule == "mapping.identity_unmapped" }!.position?.line == 8)
        #expect(code.description.hasPrefix("m.json5:5:"))
    }

    @Test func unknownKeysTransformsResourcesAndRequiredFields() {
        let text = """
        {
          id: "x", version: 1, colour: "red",
          source: { adapter: "a", department: "d", format: "yaml" },
          outputs: [
            { resource: "Persn", fields: { a: "A" } },
            { resource: "Person", fields: { citizen_id: { from: "ID", transforms: ["trim", "squash", {explode: 1}] } } },
          ],
        }
        """
        let found = problems(text)
        let byRule = Dictionary(grouping: found, by: \.rule)
        #expect(byRule["mapping.unknown_key"]?.first?.position?.line == 2)
        #expect(byRule["mapping.source_format"]?.first?.position?.line == 3)
        #expect(byRule["mapping.unknown_resource"]?.first?.message.contains("did you mean 'Person'") == true)
        #expect(byRule["mapping.unknown_transform"]?.count == 2)
        #expect(byRule["mapping.required_unmapped"]?.first?.message.contains("name") == true)
    }

    @Test func typeMismatches() {
        let text = personMapping("""
        family_size: { const: "many" },
        sex: { const: "5" },
        note: { from: "N", transforms: [{date: "yyyyMMdd"}] },
        disabled: { from: "D", transforms: ["citizen_id"] },
        """)
        let mismatches = problems(text).filter { $0.rule == "mapping.type_mismatch" }
        #expect(mismatches.count == 4)
        #expect(mismatches.map { $0.position!.line } == [7, 8, 9, 10])
    }

    @Test func malformedJSON5GivesItsPosition() {
        let found = problems("{\n  id: \"x\",\n  version: 1,,\n}")
        #expect(found.count == 1)
        #expect(found[0].rule == "mapping.json5")
        #expect(found[0].position?.line == 3)
    }

    @Test func structuralProblems() {
        let found = problems("""
        {
          id: "x", version: 0,
          source: { adapter: "a", department: "d", format: "xml" },
          crosswalks: { unused: { a: "1" } },
          skip: { field: "X" },
          outputs: [{ resource: "Person", partial: true, fields: {
            citizen_id: { from: "a..b" },
            name: { from: "N", const: "x", transforms: [{regex: "("}, {pad: {length: 2, with: "00"}}] },
          } }],
        }
        """)
        let rules = Set(found.map(\.rule))
        for expected in ["mapping.type", "mapping.missing_key", "mapping.condition", "mapping.path", "mapping.conflict", "mapping.regex", "mapping.transform", "mapping.unused_crosswalk"] {
            #expect(rules.contains(expected), "\(expected)")
        }
        #expect(found.first { $0.rule == "mapping.unused_crosswalk" }?.severity == .warning)
    }

    @Test func compileThrowsEveryProblem() {
        #expect(throws: MappingCompileError.self) { try compile("{}") }
        do {
            _ = try MappingPlan.compile(text: "{ id: 1 }", file: "m.json5", schema: testSchema)
            Issue.record("expected a compile error")
        } catch {
            #expect(error.problems.count >= 3)
        }
    }
}
