import Testing
@testable import RecordStore

@Suite struct SurvivorshipTests {
    let rules = Survivorship(authorities: ["name": ["police", "civil-affairs"], "blood_group": ["health"]])

    func seen(_ field: String, _ value: String, from department: String, at time: String = "2026-01-01T00:00:00Z") -> Observation {
        Observation(field: field, value: value, provenance: FieldProvenance(
            adapter: department + "-adapter", department: department, sourceKey: "k", mappingID: "m", mappingVersion: 1, observedAt: time))
    }

    @Test func anEmptyFieldTakesAnySourcesValue() {
        let out = rules.merge([:], [seen("name", #""张三""#, from: "health")])
        #expect(out.fields["name"]?.value == #""张三""#)
        #expect(out.changedFields == ["name"])
        #expect(out.conflicts.isEmpty)
    }

    @Test func aHigherRankedSourceOverwrites() {
        let start = rules.merge([:], [seen("name", #""张三""#, from: "health")]).fields
        let out = rules.merge(start, [seen("name", #""张叁""#, from: "police")])
        #expect(out.fields["name"]?.value == #""张叁""#)
        #expect(out.fields["name"]?.provenance.department == "police")
        #expect(out.changedFields == ["name"])
    }

    @Test func aLowerRankedDisagreementIsAConflictNotAnOverwrite() {
        let start = rules.merge([:], [seen("name", #""张叁""#, from: "police")]).fields
        let out = rules.merge(start, [seen("name", #""张三""#, from: "civil-affairs")])
        #expect(out.fields["name"]?.value == #""张叁""#)
        #expect(out.changedFields.isEmpty)
        #expect(out.conflicts.count == 1)
        #expect(out.conflicts[0].golden.provenance.department == "police")
        #expect(out.conflicts[0].challenger.provenance.department == "civil-affairs")
        // A department not listed at all ranks below every listed one.
        #expect(rules.merge(start, [seen("name", #""X""#, from: "health")]).conflicts.count == 1)
    }

    @Test func amongEqualRankTheNewestWins() {
        let start = rules.merge([:], [seen("phone", #""13800000000""#, from: "health", at: "2026-01-01T00:00:00Z")]).fields
        let newer = rules.merge(start, [seen("phone", #""13900000000""#, from: "social-security", at: "2026-02-01T00:00:00Z")])
        #expect(newer.fields["phone"]?.value == #""13900000000""#)
        let older = rules.merge(start, [seen("phone", #""13900000000""#, from: "social-security", at: "2025-12-01T00:00:00Z")])
        #expect(older.fields["phone"]?.value == #""13800000000""#)
        #expect(older.conflicts.count == 1)
    }

    @Test func agreementChangesNothingButAHigherRankTakesOverProvenance() {
        let start = rules.merge([:], [seen("name", #""张三""#, from: "civil-affairs")]).fields
        let same = rules.merge(start, [seen("name", #""张三""#, from: "police")])
        #expect(same.changedFields.isEmpty)
        #expect(same.conflicts.isEmpty)
        #expect(same.fields["name"]?.provenance.department == "police")
    }

    @Test func aValueThatChangesBackWithinOneMergeIsNoChange() {
        let start = rules.merge([:], [seen("phone", "1", from: "health", at: "2026-01-01")]).fields
        let out = rules.merge(start, [seen("phone", "2", from: "health", at: "2026-01-02"), seen("phone", "1", from: "health", at: "2026-01-03")])
        #expect(out.changedFields.isEmpty)
    }
}
