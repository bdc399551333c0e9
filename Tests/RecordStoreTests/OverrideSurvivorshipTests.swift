import Testing
@testable import RecordStore

/// Admin overrides in survivorship, and the record-once classification of each observation.
@Suite struct OverrideSurvivorshipTests {
    let rules = Survivorship(authorities: ["name": ["police", "civil-affairs"]])

    func seen(_ value: String, from department: String) -> Observation {
        Observation(field: "name", value: value, provenance: FieldProvenance(
            adapter: department + "-adapter", department: department, sourceKey: "k", mappingID: "m", mappingVersion: 1,
            observedAt: "2026-01-01T00:00:00Z"))
    }

    /// A golden name the admin set to "B" over the police register's "A".
    var overridden: [String: GoldenField] {
        ["name": GoldenField(value: #""B""#, provenance: .override(by: "admin", reason: "card", conflict: 4, at: "2026-01-02T00:00:00Z"))]
    }
    var guardian: [String: OverrideGuard] { ["name": OverrideGuard(authorityDepartment: "police", authorityValue: #""A""#)] }

    @Test func anOverrideOutranksEveryDepartmentUntilTheAuthoritySaysSomethingNew() {
        // The authority repeating what it said before: kept, not a conflict, not counted.
        let repeated = rules.merge(overridden, [seen(#""A""#, from: "police")], overrides: guardian)
        #expect(repeated.fields["name"]?.value == #""B""# && repeated.changedFields.isEmpty && repeated.conflicts.isEmpty)
        #expect(repeated.kinds == [nil] && repeated.retired.isEmpty)
        // Another department disagreeing: a conflict against the override.
        let other = rules.merge(overridden, [seen(#""C""#, from: "civil-affairs")], overrides: guardian)
        #expect(other.fields["name"]?.value == #""B""# && other.conflicts.count == 1 && other.kinds == [.disagreement])
        #expect(other.conflicts.first?.golden.provenance.steward?.conflict == 4)
        // Another department agreeing: a confirmation.
        #expect(rules.merge(overridden, [seen(#""B""#, from: "health")], overrides: guardian).kinds == [.confirmation])
        // New information at the authority: the override retires.
        let retired = rules.merge(overridden, [seen(#""D""#, from: "police")], overrides: guardian)
        #expect(retired.fields["name"]?.value == #""D""# && retired.fields["name"]?.provenance.steward == nil)
        #expect(retired.retired == ["name"] && retired.changedFields == ["name"] && retired.kinds == [.authorityChange])
        // ...even when it now says what the admin decided (the provenance changes hands).
        let agreed = rules.merge(overridden, [seen(#""B""#, from: "police")], overrides: guardian)
        #expect(agreed.retired == ["name"] && agreed.changedFields == ["name"] && agreed.fields["name"]?.provenance.department == "police")
    }

    @Test func everyObservationIsClassified() {
        let out = rules.merge([:], [seen(#""A""#, from: "civil-affairs"), seen(#""A""#, from: "health"), seen(#""A""#, from: "civil-affairs"),
                                    seen(#""B""#, from: "police"), seen(#""C""#, from: "civil-affairs")])
        #expect(out.kinds == [.newFact, .confirmation, nil, .authorityChange, .disagreement])
    }

    @Test func overrideProvenanceRoundTripsThroughTheStoredForm() throws {
        let stored = GoldenRecordCodec.provenanceJSON(overridden, order: ["name"])
        let back = try GoldenRecordCodec.compactProvenance(stored)
        #expect(back["name"] == overridden["name"]?.provenance)
        #expect(try GoldenRecordCodec.decodeSide(GoldenRecordCodec.conflictSide(overridden["name"]!)) == overridden["name"])
    }
}
