import Foundation
import Mapping
import Store
import JSON5
import Telemetry

/// One record without a usable identity key waiting in (or decided from) the review queue.
public struct MatchCaseView: Sendable {
    public let id: Int64
    public let adapter: String
    public let department: String
    public let resource: String
    public let sourceKey: String
    /// Where the record is in its source (file:line, index).
    public let position: String
    public let mapping: String
    public let mappingVersion: Int
    /// The canonical fields (JSON object) the record would contribute.
    public let record: String
    /// `[{"entity_id","score","found_by":[..],"rules":{field: agree|variant|disagree|missing}}]`, best first.
    public let candidates: String
    /// `no_candidate`, `ambiguous` or `below_threshold`.
    public let outcome: String
    /// The best candidate's score (nil without candidates).
    public let score: Double?
    public let autoLink: Double
    /// `open`, `linked` or `rejected`.
    public let status: String
    public let linkedEntity: String?
    public let decidedBy: String?
    public let reason: String?
    public let decidedAt: Date?
    public let createdAt: Date
    public let updatedAt: Date
}

/// Which cases a list is about (nil: any).
public struct MatchCaseFilter: Sendable {
    public var status: String?
    public var adapter: String?
    public var resource: String?
    public init(status: String? = "open", adapter: String? = nil, resource: String? = nil) {
        self.status = status
        self.adapter = adapter
        self.resource = resource
    }
}

/// Why a review decision could not be made (never with a record's values).
public enum MatchCaseError: Error, Equatable {
    case noCase(Int64)
    case notOpen(id: Int64, status: String)
    case noEntity
    case wrongResource(expected: String)
}

extension RecordStore {
    static let matchCaseColumns = """
        id, adapter, department, resource, source_key, position, mapping, mapping_version, record::text AS record,
        candidates::text AS candidates, outcome, score, auto_link, status, linked_entity, decided_by, reason, decided_at, created_at, updated_at
        """

    static func matchCaseView(_ row: Row) throws -> MatchCaseView {
        MatchCaseView(id: try row.decode(Int64.self, "id"), adapter: row["adapter"]!, department: row["department"]!,
                      resource: row["resource"]!, sourceKey: row["source_key"]!, position: row["position"]!, mapping: row["mapping"]!,
                      mappingVersion: try row.decode(Int.self, "mapping_version"), record: row["record"]!, candidates: row["candidates"]!,
                      outcome: row["outcome"]!, score: try row.decodeIfPresent(Double.self, "score"),
                      autoLink: try row.decode(Double.self, "auto_link"), status: row["status"]!, linkedEntity: row["linked_entity"],
                      decidedBy: row["decided_by"], reason: row["reason"], decidedAt: try row.decodeIfPresent(Date.self, "decided_at"),
                      createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"))
    }

    /// Cases matching `filter` with id above `afterID`, oldest first.
    public func matchCases(_ filter: MatchCaseFilter, afterID: Int64, limit: Int) throws -> [MatchCaseView] {
        try pool.withConnection { c in
            try c.query("""
                SELECT \(Self.matchCaseColumns) FROM match_cases
                WHERE id > $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR adapter = $3) AND ($4::text IS NULL OR resource = $4)
                ORDER BY id LIMIT $5
                """, [afterID, filter.status, filter.adapter, filter.resource, limit]).rows.map(Self.matchCaseView)
        }
    }

    public func matchCase(id: Int64) throws -> MatchCaseView? {
        try pool.withConnection { c in try Self.matchCase(id: id, in: c) }
    }

    static func matchCase(id: Int64, in c: PostgresConnection, lock: Bool = false) throws -> MatchCaseView? {
        try c.query("SELECT \(matchCaseColumns) FROM match_cases WHERE id = $1" + (lock ? " FOR UPDATE" : ""), [id]).first.map(matchCaseView)
    }

    /// Links an open case to `entityID`: its record is applied as if it had arrived with that
    /// entity's key (survivorship, conflicts, counters, change event), in the caller's transaction.
    /// `adapter` and `plan` are the case's adapter as registered now.
    public func linkMatchCase(id: Int64, entityID: String, by: String, reason: String, adapter: IngestSource, plan: MappingPlan,
                              in c: PostgresConnection) throws -> (matchCase: MatchCaseView, outcome: BatchOutcome) {
        guard let found = try Self.matchCase(id: id, in: c) else { throw MatchCaseError.noCase(id) }
        guard let entity = try c.query("SELECT resource, identity_key FROM entities WHERE id = $1::uuid",
                                       [entityID]).first else { throw MatchCaseError.noEntity }
        guard entity["resource"] == found.resource else { throw MatchCaseError.wrongResource(expected: found.resource) }
        // The entity first (inside the writer), then the case: the order batches lock them in.
        try c.execute("SELECT 1 FROM entities WHERE id = $1::uuid FOR UPDATE", [entityID])
        guard let locked = try Self.matchCase(id: id, in: c, lock: true) else { throw MatchCaseError.noCase(id) }
        guard locked.status == "open" else { throw MatchCaseError.notOpen(id: id, status: locked.status) }
        // The score and rule of the named entity when it was a candidate; else the admin's own judgement.
        let candidate = MatchIndex.candidate(in: locked.candidates, entity: entityID)
        let note = MatchNote(rule: candidate?.rule ?? "review", score: candidate?.score ?? 0, matchCase: id, by: by)
        let observedAt = Timestamp.iso8601(Date())
        let provenance = FieldProvenance(adapter: locked.adapter, department: locked.department, sourceKey: locked.sourceKey,
                                         mappingID: locked.mapping, mappingVersion: locked.mappingVersion, observedAt: observedAt, match: note)
        let record = MatchIndex.record(resource: locked.resource, fieldsJSON: locked.record, sourceKey: locked.sourceKey,
                                       mapping: locked.mapping, version: locked.mappingVersion)
        var writer = BatchWriter(connection: c, rules: rules, adapter: adapter, plan: plan, observedAt: observedAt)
        let outcome = try writer.applyLinked(record, resource: locked.resource, key: entity["identity_key"]!, provenance: provenance)
        try c.execute("""
            UPDATE match_cases SET status = 'linked', linked_entity = $2::uuid, decided_by = $3, reason = $4, decided_at = now(), updated_at = now()
            WHERE id = $1
            """, [id, entityID, by, reason])
        return (try Self.matchCase(id: id, in: c)!, outcome)
    }

    /// Rejects an open case: its record is not applied to any entity (the case keeps it, with the reason).
    public func rejectMatchCase(id: Int64, by: String, reason: String, in c: PostgresConnection) throws -> MatchCaseView {
        guard let locked = try Self.matchCase(id: id, in: c, lock: true) else { throw MatchCaseError.noCase(id) }
        guard locked.status == "open" else { throw MatchCaseError.notOpen(id: id, status: locked.status) }
        try c.execute("""
            UPDATE match_cases SET status = 'rejected', decided_by = $2, reason = $3, decided_at = now(), updated_at = now() WHERE id = $1
            """, [id, by, reason])
        return try Self.matchCase(id: id, in: c)!
    }
}

extension MatchIndex {
    /// The rule that found `entity` and its score, from a case's stored candidates.
    static func candidate(in candidates: String, entity: String) -> (rule: String, score: Double)? {
        guard case .array(let list)? = try? JSON5.parseJSON(candidates) else { return nil }
        for c in list where c["entity_id"]?.stringValue == entity {
            guard case .array(let rules)? = c["found_by"] else { continue }
            return (rules.first?.stringValue ?? "review", Double(c["score"]?.numberText ?? "") ?? 0)
        }
        return nil
    }
}

extension RecordStore {
    /// Writes the blocking keys of every entity of a resource with match rules that has none
    /// (entities stored before migration 0013). Pages of `pageSize`, each in its own transaction with the entities
    /// locked and read again, so a concurrent batch's newer keys are never overwritten by older ones.
    public func indexMissingMatchKeys(pageSize: Int = 5_000) throws -> Int {
        let resources = rules.matchers.keys.sorted()
        guard !resources.isEmpty else { return 0 }
        var total = 0
        var after = "00000000-0000-0000-0000-000000000000"
        while true {
            let ids: [String] = try pool.withConnection { c in
                try c.query("""
                    SELECT e.id FROM entities e
                    WHERE e.resource = ANY($1::text[]) AND e.id > $2::uuid
                      AND NOT EXISTS (SELECT 1 FROM match_keys k WHERE k.entity_id = e.id)
                    ORDER BY e.id LIMIT $3
                    """, [resources, after, pageSize]).rows.compactMap { $0["id"] }
            }
            guard let last = ids.last else { return total }
            try pool.transaction { c in
                let rows = try c.query("SELECT id, resource, record::text AS record FROM entities WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                                       [ids]).rows
                try MatchIndex.refresh(rows.map { ($0["id"]!, $0["resource"]!, $0["record"]!) }, rules: rules, in: c)
            }
            total += ids.count
            after = last
            if ids.count < pageSize { return total }
        }
    }
}
