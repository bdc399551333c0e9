import Foundation
import JSON5
import Store
import Telemetry

/// Which conflicts a list, a summary or a bulk decision is about (nil: any).
public struct ConflictFilter: Sendable {
    public var status: String?
    public var resource: String?
    public var field: String?
    /// Either side's department.
    public var department: String?
    public var goldenDepartment: String?
    public var challengerDepartment: String?

    public init(status: String? = "open", resource: String? = nil, field: String? = nil, department: String? = nil,
                goldenDepartment: String? = nil, challengerDepartment: String? = nil) {
        self.status = status
        self.resource = resource
        self.field = field
        self.department = department
        self.goldenDepartment = goldenDepartment
        self.challengerDepartment = challengerDepartment
    }

    /// The WHERE clause (parameters $1-$6) and its parameters.
    var sql: String {
        """
        ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR resource = $2) AND ($3::text IS NULL OR field = $3)
        AND ($4::text IS NULL OR golden_department = $4 OR challenger_department = $4)
        AND ($5::text IS NULL OR golden_department = $5) AND ($6::text IS NULL OR challenger_department = $6)
        """
    }
    var parameters: [any PostgresEncodable] { [status, resource, field, department, goldenDepartment, challengerDepartment] }
}

/// How an admin settles a conflict.
public enum StewardDecision: String, Sendable, CaseIterable {
    /// The golden value stays, now as an override no lower-ranked department can challenge again.
    case keepGolden = "keep_golden"
    /// The challenger's value becomes the golden value, as an override.
    case takeChallenger = "take_challenger"
    /// Another value (checked against the catalog field) becomes the golden value, as an override.
    case setValue = "set_value"
}

/// Why a stewardship operation could not be done (never with a record's values).
public enum StewardshipError: Error, Equatable {
    case noConflict(Int64)
    case notOpen(id: Int64, status: String)
    case noEntity
    case noOverride(field: String)
}

/// One open conflicts count in the summary.
public struct ConflictCount: Sendable {
    public let resource: String
    public let field: String
    public let goldenDepartment: String
    public let challengerDepartment: String
    public let count: Int
}

/// What a stewardship change did to a golden record.
public struct StewardChange: Sendable {
    public let entityID: String
    public let resource: String
    /// The golden value changed (a new version and a change event).
    public let valueChanged: Bool
    /// The change event's position, when there was one.
    public let position: Int64?
}

/// Admin decisions on golden records: conflicts resolved, values corrected, overrides removed.
///
/// An override is a golden field whose provenance is the admin's (`department` admin, `by`,
/// `reason`, `conflict`, `observed_at`); it outranks every department. `field_overrides` keeps,
/// per overridden field, what its authoritative department had sent at the time (a different
/// value from it later retires the override, see `Survivorship`) and the golden side it replaced
/// (restored when the override is removed). Each operation runs in the caller's transaction, so
/// the hub writes the audit entry in the same one.
extension RecordStore {
    // MARK: reads

    /// Conflicts matching `filter`, in id order, after `afterID`.
    public func conflicts(_ filter: ConflictFilter, afterID: Int64, limit: Int) throws -> [ConflictView] {
        try pool.withConnection { c in
            try c.query("SELECT \(Self.conflictColumns) FROM conflicts WHERE \(filter.sql) AND id > $7 ORDER BY id LIMIT $8",
                        filter.parameters + [afterID, limit]).rows.map(Self.conflictView)
        }
    }

    /// One conflict.
    public func conflict(id: Int64) throws -> ConflictView? {
        try pool.withConnection { c in try Self.conflict(id: id, in: c) }
    }

    static func conflict(id: Int64, in c: PostgresConnection) throws -> ConflictView? {
        try c.query("SELECT \(conflictColumns) FROM conflicts WHERE id = $1", [id]).first.map(conflictView)
    }

    /// Conflicts matching `filter` counted by resource, field and the two departments, largest first.
    public func conflictSummary(_ filter: ConflictFilter) throws -> [ConflictCount] {
        try pool.withConnection { c in
            try c.query("""
                SELECT resource, field, golden_department, challenger_department, count(*) AS n FROM conflicts WHERE \(filter.sql)
                GROUP BY resource, field, golden_department, challenger_department
                ORDER BY n DESC, resource, field, golden_department, challenger_department
                """, filter.parameters).rows.map { row in
                ConflictCount(resource: try row.decode(String.self, "resource"), field: try row.decode(String.self, "field"),
                              goldenDepartment: row["golden_department"] ?? "", challengerDepartment: row["challenger_department"] ?? "",
                              count: try row.decode(Int.self, "n"))
            }
        }
    }

    // MARK: decisions

    /// Settles an open conflict with `decision`; `value` (a checked JSON literal) only for set_value.
    public func resolveConflict(id: Int64, decision: StewardDecision, value: String?, by: String, reason: String,
                                in c: PostgresConnection) throws -> (conflict: ConflictView, change: StewardChange) {
        guard let found = try Self.conflict(id: id, in: c) else { throw StewardshipError.noConflict(id) }
        // The entity first, then the conflict: the order batches lock them in.
        let entity = try lockEntity(id: found.entityID, in: c)
        guard let row = try c.query("""
            SELECT status, (golden -> 'value')::text AS golden, (challenger -> 'value')::text AS challenger
            FROM conflicts WHERE id = $1 FOR UPDATE
            """, [id]).first else { throw StewardshipError.noConflict(id) }
        let status = try row.decode(String.self, "status")
        guard status == "open" else { throw StewardshipError.notOpen(id: id, status: status) }
        let chosen: String
        switch decision {
        case .keepGolden: chosen = try entity.fields[found.field]?.value ?? BatchWriter.literal(row["golden"]!)
        case .takeChallenger: chosen = try BatchWriter.literal(row["challenger"]!)
        case .setValue:
            guard let value else { preconditionFailure("set_value needs a value") }
            chosen = value
        }
        let change = try override(entity, field: found.field, value: chosen, note: StewardNote(by: by, reason: reason, conflict: id), in: c)
        try c.execute("""
            UPDATE conflicts SET status = 'resolved', decision = $2, decided_value = $3::jsonb, reason = $4, decided_by = $5,
                   decided_at = now(), updated_at = now() WHERE id = $1
            """, [id, decision.rawValue, chosen, reason, by])
        return (try Self.conflict(id: id, in: c)!, change)
    }

    /// The open conflicts `filter` matches (status is always open), for a bulk decision.
    public func openConflictIDs(_ filter: ConflictFilter, in c: PostgresConnection) throws -> [Int64] {
        var open = filter
        open.status = "open"
        // Entities locked in key order first, as batches do, so a bulk decision cannot deadlock with them.
        let locked = try c.query("""
            SELECT e.id FROM entities e WHERE e.id IN (SELECT entity_id FROM conflicts WHERE \(open.sql))
            ORDER BY e.resource, e.identity_key FOR UPDATE
            """, open.parameters).rows.compactMap { $0["id"] }
        // Only conflicts of the locked entities: one opened meanwhile on another waits for the next decision.
        return try c.query("SELECT id FROM conflicts WHERE \(open.sql) AND entity_id = ANY($7::uuid[]) ORDER BY id FOR UPDATE",
                           open.parameters + [locked]).rows.map { try $0.decode(Int64.self, "id") }
    }

    /// Sets an override on one field of an entity without a conflict (a correction).
    public func correct(resource: String, entityID: String, field: String, value: String, by: String, reason: String,
                        in c: PostgresConnection) throws -> StewardChange {
        let entity = try lockEntity(id: entityID, in: c)
        guard entity.resource == resource else { throw StewardshipError.noEntity }
        return try override(entity, field: field, value: value, note: StewardNote(by: by, reason: reason, conflict: nil), in: c)
    }

    /// Removes the override on one field: the field gets back the golden side the override had
    /// replaced (survivorship's value at the time), or no value if it had none.
    public func removeOverride(resource: String, entityID: String, field: String, in c: PostgresConnection) throws -> StewardChange {
        let entity = try lockEntity(id: entityID, in: c)
        guard entity.resource == resource else { throw StewardshipError.noEntity }
        guard let row = try c.query("SELECT previous::text AS previous FROM field_overrides WHERE entity_id = $1 AND field = $2",
                                    [entityID, field]).first else { throw StewardshipError.noOverride(field: field) }
        var fields = entity.fields
        let previous = try row["previous"].flatMap(GoldenRecordCodec.decodeSide)
        fields[field] = previous
        try c.execute("DELETE FROM field_overrides WHERE entity_id = $1 AND field = $2", [entityID, field])
        let changed = previous?.value != entity.fields[field]?.value
        return try write(entity, fields: fields, field: field, valueChanged: changed, in: c)
    }

    // MARK: internals

    struct LockedEntity {
        let id: String
        let resource: String
        let version: Int
        let fields: [String: GoldenField]
    }

    private func lockEntity(id: String, in c: PostgresConnection) throws -> LockedEntity {
        guard UUID(uuidString: id) != nil, let row = try c.query("""
            SELECT id, resource, version, record::text AS record, provenance::text AS provenance FROM entities
            WHERE id = $1::uuid AND version > 0 FOR UPDATE
            """, [id]).first else { throw StewardshipError.noEntity }
        return LockedEntity(id: try row.decode(String.self, "id"), resource: try row.decode(String.self, "resource"),
                            version: try row.decode(Int.self, "version"),
                            fields: try GoldenRecordCodec.decode(record: row["record"]!, provenance: row["provenance"]!))
    }

    /// Makes `value` the field's golden value with the admin's provenance and records the override.
    private func override(_ entity: LockedEntity, field: String, value: String, note: StewardNote, in c: PostgresConnection) throws -> StewardChange {
        let now = Timestamp.iso8601(Date())
        let current = entity.fields[field]
        // An override replacing an override keeps what the first one knew of the authority and of survivorship.
        let earlier = try c.query("""
            SELECT authority_department, authority_value::text AS authority_value, previous::text AS previous
            FROM field_overrides WHERE entity_id = $1 AND field = $2
            """, [entity.id, field]).first
        let authority: String?
        let authorityValue: String?
        let previous: String?
        if let earlier {
            authority = earlier["authority_department"]
            authorityValue = earlier["authority_value"]
            previous = earlier["previous"]
        } else {
            let held = current?.provenance.department
            authority = rules.resources[entity.resource]?.authorities[field]?.first ?? held
            authorityValue = held != nil && held == authority ? current?.value : nil
            previous = current.map(GoldenRecordCodec.conflictSide)
        }
        try c.execute("""
            INSERT INTO field_overrides (entity_id, field, value, decided_by, reason, conflict_id, authority_department, authority_value, previous)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
            ON CONFLICT (entity_id, field) DO UPDATE SET value = EXCLUDED.value, decided_by = EXCLUDED.decided_by,
              reason = EXCLUDED.reason, conflict_id = EXCLUDED.conflict_id, created_at = now()
            """, [entity.id, field, value, note.by, note.reason, note.conflict, authority, authorityValue, previous])
        var fields = entity.fields
        fields[field] = GoldenField(value: value, provenance: .override(by: note.by, reason: note.reason, conflict: note.conflict, at: now))
        let change = try write(entity, fields: fields, field: field, valueChanged: current?.value != value, in: c)
        // Other open conflicts on the field that now agree with it are over.
        try c.execute("""
            UPDATE conflicts SET status = 'superseded', updated_at = now()
            WHERE entity_id = $1 AND field = $2 AND status = 'open' AND challenger -> 'value' = $3::jsonb AND ($4::bigint IS NULL OR id <> $4)
            """, [entity.id, field, value, note.conflict])
        return change
    }

    /// Writes the entity's fields: a new version and a change event when the value changed,
    /// else the provenance in place (the value, and so the version, stay).
    private func write(_ entity: LockedEntity, fields: [String: GoldenField], field: String, valueChanged: Bool,
                       in c: PostgresConnection) throws -> StewardChange {
        let order = rules.resources[entity.resource]?.fieldOrder ?? []
        let record = GoldenRecordCodec.recordJSON(fields, order: order)
        let provenance = GoldenRecordCodec.provenanceJSON(fields, order: order)
        guard valueChanged else {
            try c.execute("UPDATE entities SET provenance = $2::json WHERE id = $1", [entity.id, provenance])
            return StewardChange(entityID: entity.id, resource: entity.resource, valueChanged: false, position: nil)
        }
        try c.execute("""
            INSERT INTO entity_versions (entity_id, version, record, provenance, created_at)
            SELECT id, version, record, provenance, updated_at FROM entities WHERE id = $1
            """, [entity.id])
        try c.execute("""
            UPDATE entities SET version = $2, record = $3::jsonb, provenance = $4::json, updated_at = now()
            WHERE id = $1
            """, [entity.id, entity.version + 1, record, provenance])
        let sources = fields[field].map { GoldenRecordCodec.sourcesJSON([field: $0], changed: [field]) } ?? "[]"
        let position = try ChangeLog.append([NewChangeEvent(resource: entity.resource, entityID: entity.id, version: entity.version + 1,
                                                            operation: .updated, changedFields: [field], record: nil, sources: sources)],
                                            in: c)
        return StewardChange(entityID: entity.id, resource: entity.resource, valueChanged: true, position: position)
    }

    static let conflictColumns = """
        id, entity_id, resource, field, golden::text AS golden, challenger::text AS challenger, status, updated_at,
        golden_department, challenger_department, decision, decided_value::text AS decided_value, reason, decided_by, decided_at
        """

    static func conflictView(_ row: Row) throws -> ConflictView {
        var resolution: ConflictView.Resolution?
        if let decision = row["decision"] {
            resolution = .init(decision: decision, value: row["decided_value"] ?? "null", reason: row["reason"] ?? "",
                               by: row["decided_by"] ?? "", at: try row.decode(Date.self, "decided_at"))
        }
        return ConflictView(id: try row.decode(Int64.self, "id"), entityID: try row.decode(String.self, "entity_id"),
                            resource: try row.decode(String.self, "resource"), field: try row.decode(String.self, "field"),
                            golden: try row.decode(String.self, "golden"), challenger: try row.decode(String.self, "challenger"),
                            status: try row.decode(String.self, "status"), updatedAt: try row.decode(Date.self, "updated_at"),
                            goldenDepartment: row["golden_department"] ?? "", challengerDepartment: row["challenger_department"] ?? "",
                            resolution: resolution)
    }
}
