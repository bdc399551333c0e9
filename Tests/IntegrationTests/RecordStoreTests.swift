import Adapters
import Foundation
import Mapping
import SourceFormats
import Testing
@testable import RecordStore
@testable import Store

/// A small catalog and three department mappings, enough to exercise the store's rules.
enum StoreFixture {
    struct Rules: MappingRules {
        var identifierRuleNames: [String] { ["citizen_id"] }
        func normalizeIdentifier(rule: String, _ text: String) -> RuleOutcome {
            text.count == 18 ? .valid(text.uppercased()) : .invalid(rule: "citizen_id.length", message: "expected 18 characters")
        }
        func normalizeDate(_ text: String) -> RuleOutcome {
            text.count == 10 ? .valid(text) : .invalid(rule: "date.format", message: "not a date")
        }
        func foldWidth(_ text: String) -> String { text }
    }

    static let schema = MappingSchema(resources: [
        TargetResource(name: "Person", identityKey: ["citizenId"], fields: [
            TargetField(name: "citizenId", type: .string, required: true, identifierRule: "citizen_id"),
            TargetField(name: "name", type: .string),
            TargetField(name: "sex", type: .code(table: "sex")),
            TargetField(name: "bloodGroup", type: .code(table: "blood")),
            TargetField(name: "deceased", type: .boolean),
            TargetField(name: "deathDate", type: .date),
        ]),
    ], codeTables: ["sex": ["1", "2"], "blood": ["1", "2", "3", "4"]], rules: Rules())

    static let rules = StoreRules(resources: [
        StoreRules.Resource(name: "Person", identityKey: ["citizenId"],
                            fieldOrder: ["citizenId", "name", "sex", "bloodGroup", "deceased", "deathDate"],
                            authorities: ["name": ["police", "civil-affairs"], "sex": ["police"], "bloodGroup": ["health"],
                                          "deceased": ["civil-affairs"], "deathDate": ["civil-affairs"]]),
    ])

    static func plan(_ id: String, department: String, version: Int = 1, fields: String) throws -> MappingPlan {
        try MappingPlan.compile(text: """
            { id: "\(id)", version: \(version),
              source: { adapter: "\(id)", department: "\(department)", format: "json", key: "key" },
              outputs: [ { resource: "Person", partial: true, fields: { \(fields) } } ] }
            """, file: "\(id).json5", schema: schema)
    }

    static let police = try! plan("police", department: "police",
                                  fields: #"citizenId: { from: "GMSFHM", transforms: ["citizen_id"] }, name: "XM", sex: "XB""#)
    static let health = try! plan("health", department: "health",
                                  fields: #"citizenId: { from: "id", transforms: ["citizen_id"] }, name: "name", bloodGroup: "abo""#)
    static let death = try! plan("civil-death", department: "civil-affairs",
                                 fields: #"citizenId: { from: "SFZH", transforms: ["citizen_id"] }, deceased: { const: "true" }, deathDate: { from: "SWRQ", transforms: ["date"] }"#)

    static func adapter(_ plan: MappingPlan) -> IngestSource {
        IngestSource(id: plan.source.adapter, department: plan.source.department)
    }

    static func records(_ json: String, file: String = "batch.json") -> [SourceReadItem] {
        try! SourceReaders.reader(source: ByteSource(bytes: Array(json.utf8), name: file),
                             options: SourceReadOptions(format: .json, keyField: "key")).readAll()
    }

    static func store() throws -> RecordStore {
        let url = try TestDatabase.migrated(Schema.migrations)
        return RecordStore(pool: ConnectionPool(url: url, maxConnections: 4), rules: rules)
    }
}

@Suite struct RecordStoreTests {
    let id = "11010519491231002X"

    func golden(_ store: RecordStore) throws -> (record: String, provenance: String, version: Int) {
        try store.pool.withConnection { c in
            let row = try #require(try c.query("SELECT record::text AS r, provenance::text AS p, version FROM entities WHERE identity_key = $1", [id]).first)
            return (row["r"]!, try GoldenRecordCodec.expandedProvenanceJSON(row["p"]!), Int(row["version"]!)!)
        }
    }

    @Test func onePersonFromThreeDepartmentsCitesEachFieldsSource() throws {
        let store = try StoreFixture.store()
        let p = try store.ingest(StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002x","XM":"张三","XB":"1"}]"#),
                                 adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        #expect(p.count(.accepted) == 1)
        #expect(p.events == 1)
        let h = try store.ingest(StoreFixture.records(#"[{"key":"H9","id":"11010519491231002X","name":"张三","abo":"3"}]"#),
                                 adapter: StoreFixture.adapter(StoreFixture.health), plan: StoreFixture.health)
        #expect(h.events == 1)
        let g = try golden(store)
        #expect(g.version == 2)
        let record = try JSONSerialization.jsonObject(with: Data(g.record.utf8)) as! [String: Any]
        let provenance = try JSONSerialization.jsonObject(with: Data(g.provenance.utf8)) as! [String: [String: Any]]
        #expect(record["name"] as? String == "张三")
        #expect(record["bloodGroup"] as? String == "3")
        #expect(provenance["name"]?["department"] as? String == "police")       // police outranks health for the name
        #expect(provenance["sex"]?["adapter"] as? String == "police")
        #expect(provenance["bloodGroup"]?["department"] as? String == "health")
        #expect(provenance["bloodGroup"]?["source_key"] as? String == "H9")
        #expect(provenance["bloodGroup"]?["mapping_version"] as? Int == 1)
        #expect(try store.pool.withConnection { try $0.query("SELECT count(*) AS n FROM entities").first?["n"] } == "1")
    }

    @Test func aLowerRankedDisagreementOpensAConflictAndDoesNotOverwrite() throws {
        let store = try StoreFixture.store()
        try store.ingest(StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三","XB":"1"}]"#),
                         adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        let h = try store.ingest(StoreFixture.records(#"[{"key":"H9","id":"11010519491231002X","name":"张叁","abo":"1"}]"#),
                                 adapter: StoreFixture.adapter(StoreFixture.health), plan: StoreFixture.health)
        #expect(h.conflicts == 1)
        let g = try golden(store)
        #expect(g.record.contains("张三"))
        #expect(!g.record.contains("张叁"))
        let conflict = try store.pool.withConnection { c in
            try #require(try c.query("SELECT field, challenger_adapter, golden->'provenance'->>'department' AS d, status FROM conflicts").first)
        }
        #expect(conflict["field"] == "name")
        #expect(conflict["challenger_adapter"] == "health")
        #expect(conflict["d"] == "police")
        #expect(conflict["status"] == "open")
        // The police correcting the name later is an overwrite, not a conflict.
        let fix = try store.ingest(StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张叁","XB":"1"}]"#),
                                   adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        #expect(fix.conflicts == 0)
        #expect(try golden(store).record.contains("张叁"))
    }

    @Test func redeliveringTheSameBatchChangesNothingAndEmitsNothing() throws {
        let store = try StoreFixture.store()
        let batch = #"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三","XB":"1"},{"key":"P2","GMSFHM":"440524188001010014","XM":"李四","XB":"2"},{"key":"P3","GMSFHM":"bad","XM":"王五"}]"#
        let first = try store.ingest(StoreFixture.records(batch), adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        #expect(first.count(.accepted) == 2)
        #expect(first.count(.rejected) == 1)
        #expect(first.events == 2)
        let head = try store.pool.withConnection { try ChangeLog.head($0) }
        let again = try store.ingest(StoreFixture.records(batch), adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        #expect(again.count(.unchanged) == 3)
        #expect(again.events == 0)
        #expect(again.versionsWritten == 0)
        #expect(try store.pool.withConnection { try ChangeLog.head($0) } == head)
        #expect(try store.pool.withConnection { try $0.query("SELECT count(*) AS n FROM rejects").first?["n"] } == "1")
        // Two entities at version 1; nothing superseded, so nothing in entity_versions.
        #expect(try store.pool.withConnection { try $0.query("SELECT sum(version) AS n FROM entities").first?["n"] } == "2")
        #expect(try store.pool.withConnection { try $0.query("SELECT count(*) AS n FROM entity_versions").first?["n"] } == "0")
    }

    @Test func redeliveringAFileWithCorrectionsOfOneKeyDoesNotReplayItsHistory() throws {
        let store = try StoreFixture.store()
        let adapter = StoreFixture.adapter(StoreFixture.police)
        let original = #"{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三","XB":"1"}"#
        let correction = #"{"key":"P1","GMSFHM":"11010519491231002X","XM":"张叁","XB":"1"}"#
        try store.ingest(StoreFixture.records("[\(original)]"), adapter: adapter, plan: StoreFixture.police)
        try store.ingest(StoreFixture.records("[\(correction)]"), adapter: adapter, plan: StoreFixture.police)
        #expect(try golden(store).version == 2)
        let replay = try store.ingest(StoreFixture.records("[\(original),\(correction)]"), adapter: adapter, plan: StoreFixture.police)
        #expect(replay.count(.unchanged) == 2)
        #expect(replay.events == 0)
        #expect(try golden(store).version == 2)
        #expect(try golden(store).record.contains("张叁"))
    }

    @Test func badRecordsGoToRejectsWithReasonsAndTheGoodOnesAreStored() throws {
        let store = try StoreFixture.store()
        // Element 1 has a short ID; the reader also reports a malformed element.
        let items = StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三"},{"key":"P2","GMSFHM":"1101051949","XM":"李四"}]"#)
            + [.error(SourceFormatError(.invalidJSON, at: SourceLocator(file: "batch.json", line: 3), "unexpected end of input"))]
        let outcome = try store.ingest(items, adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        #expect(outcome.records.map(\.status) == [.accepted, .rejected, .rejected])
        #expect(outcome.records[1].problems.first?.rule == "citizen_id.length")
        #expect(outcome.records[1].position.contains("batch.json"))
        let rows = try store.pool.withConnection { try $0.query("SELECT source_key, issues::text AS i, record IS NOT NULL AS has_record FROM rejects ORDER BY source_key NULLS LAST").rows }
        #expect(rows.count == 2)
        #expect(rows[0]["source_key"] == "P2")
        #expect(rows[0]["i"]?.contains("citizen_id.length") == true)
        #expect(rows[0]["i"]?.contains("1101051949") == false)
        #expect(rows[1]["has_record"] == "f")
        #expect(try store.pool.withConnection { try $0.query("SELECT count(*) AS n FROM entities").first?["n"] } == "1")
    }

    @Test func tellUsOnceADeathRegistrationMarksThePersonDeceased() throws {
        let store = try StoreFixture.store()
        try store.ingest(StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三","XB":"1"}]"#),
                         adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police)
        let d = try store.ingest(StoreFixture.records(#"[{"key":"D1","SFZH":"11010519491231002X","SWRQ":"2026-11-01"}]"#),
                                 adapter: StoreFixture.adapter(StoreFixture.death), plan: StoreFixture.death)
        #expect(d.events == 1)
        let event = try store.pool.withConnection { try ChangeLog.read(after: 1, limit: 10, from: $0) }
        #expect(event.count == 1)
        #expect(event[0].operation == "updated")
        #expect(event[0].version == 2)
        #expect(event[0].changedFields == ["deceased", "deathDate"])
        let record = try JSONSerialization.jsonObject(with: Data(event[0].record.utf8)) as! [String: Any]
        #expect(record["deceased"] as? Bool == true)
        #expect(record["deathDate"] as? String == "2026-11-01")
        #expect(record["name"] as? String == "张三")
        let sources = try JSONSerialization.jsonObject(with: Data(event[0].sources.utf8)) as! [[String: Any]]
        #expect(sources.count == 1)
        #expect(sources[0]["fields"] as? [String] == ["deceased", "deathDate"])
        #expect(sources[0]["adapter"] as? String == "civil-death")
        #expect(sources[0]["source_key"] as? String == "D1")
        // The first event still shows version 1 (now kept in entity_versions), not the current record.
        let created = try store.pool.withConnection { try ChangeLog.read(after: 0, limit: 1, from: $0) }
        let first = try JSONSerialization.jsonObject(with: Data(created[0].record.utf8)) as! [String: Any]
        #expect(created[0].version == 1)
        #expect(first["name"] as? String == "张三")
        #expect(first["deceased"] == nil)
    }

    @Test func aRejectedRecordIsRetriedWhenTheMappingChanges() throws {
        let store = try StoreFixture.store()
        let batch = #"[{"key":"H1","id":"11010519491231002X","name":"张三","abo":"3","extra":"x"}]"#
        // Version 1 knows only blood group A; "3" is not in its crosswalk, so the record is rejected.
        let strict = try MappingPlan.compile(text: """
            { id: "health", version: 1,
              source: { adapter: "health", department: "health", format: "json", key: "key" },
              crosswalks: { abo: { "A": "1" } },
              outputs: [ { resource: "Person", partial: true, fields: {
                citizenId: { from: "id", transforms: ["citizen_id"] },
                bloodGroup: { from: "abo", crosswalk: "abo", onInvalid: "reject" } } } ] }
            """, file: "health.json5", schema: StoreFixture.schema)
        let first = try store.ingest(StoreFixture.records(batch), adapter: StoreFixture.adapter(strict), plan: strict)
        #expect(first.count(.rejected) == 1)
        #expect(try store.ingest(StoreFixture.records(batch), adapter: StoreFixture.adapter(strict), plan: strict).count(.unchanged) == 1)
        let fixed = try StoreFixture.plan("health", department: "health", version: 2,
                                          fields: #"citizenId: { from: "id", transforms: ["citizen_id"] }, bloodGroup: "abo""#)
        #expect(try store.ingest(StoreFixture.records(batch), adapter: StoreFixture.adapter(fixed), plan: fixed).count(.accepted) == 1)
    }

    @Test func theCheckpointIsWrittenWithTheBatchOrNotAtAll() throws {
        let store = try StoreFixture.store()
        try store.ingest(StoreFixture.records(#"[{"key":"P1","GMSFHM":"11010519491231002X","XM":"张三"}]"#),
                         adapter: StoreFixture.adapter(StoreFixture.police), plan: StoreFixture.police, checkpoint: "page=2")
        #expect(try store.pool.withConnection { try $0.query("SELECT checkpoint FROM adapter_checkpoints WHERE adapter = 'police'").first?["checkpoint"] } == "page=2")
    }
}
