import Testing
@testable import Mapping
import SourceFormats

/// `matchable` outputs: a missing or invalid identity key is a warning and the record is kept for
/// matching; only resources with catalog match rules may be matchable (issue 13).
@Suite struct MatchableOutputTests {
    static let text = """
        {
          id: "visits", version: 1,
          source: { adapter: "visits", department: "civil-affairs", format: "json", key: "k" },
          outputs: [ { resource: "Person", partial: true, matchable: { autoLink: 0.9 }, fields: { citizen_id: "id", name: "name" } } ],
        }
        """

    static var schema: MappingSchema {
        var schema = testSchema
        schema.resources["Person"]?.hasMatchRules = true
        return schema
    }

    @Test func aMissingOrDamagedKeyIsAWarningAndTheRecordIsKept() throws {
        let plan = try MappingPlan.compile(text: Self.text, file: "m.json5", schema: Self.schema)
        #expect(plan.matchSettings(resource: "Person")?.autoLink == 0.9)
        #expect(plan.matchSettings(resource: "Household") == nil)
        for id: SourceValue? in [nil, .string("5.10108E+17")] {
            var pairs: [(String, SourceValue)] = [("k", .string("1")), ("name", .string("张三"))]
            if let id { pairs.append(("id", id)) }
            let result = plan.apply(record(pairs))
            #expect(!result.rejected && result.records.count == 1)
            #expect(result.records.first?.identity.isEmpty == true && result.records.first?["citizen_id"] == nil)
            #expect(result.issues.count == 1 && result.issues[0].severity == .warning && result.issues[0].field == "Person.citizen_id")
        }
    }

    @Test func onlyResourcesWithMatchRulesAreMatchable() {
        let found = MappingValidator.validate(text: Self.text, file: "m.json5", schema: testSchema)
        #expect(found.contains { $0.rule == "mapping.not_matchable" && $0.path.hasSuffix("matchable") })
        let bad = MappingValidator.validate(text: Self.text.replacingOccurrences(of: "{ autoLink: 0.9 }", with: "{ autoLink: 2 }"),
                                            file: "m.json5", schema: Self.schema)
        #expect(bad.contains { $0.path.hasSuffix("matchable.autoLink") })
    }
}
