import Foundation
import JSON5
import Mapping
import SourceFormats
import Store

/// A golden record as read back: values, per-field provenance, version.
public struct EntityView: Sendable {
    public let id: String
    public let resource: String
    public let identityKey: String
    public let version: Int
    /// The values as a JSON object.
    public let record: String
    /// Per field, where its value came from, as a JSON object.
    public let provenance: String
    public let updatedAt: Date
}

/// An open or resolved disagreement between a lower-ranked source and a golden value.
public struct ConflictView: Sendable {
    public let id: Int64
    public let entityID: String
    public let resource: String
    public let field: String
    /// `{"value":..,"provenance":{..}}` of the golden value and of the challenger.
    public let golden: String
    public let challenger: String
    public let status: String
    public let updatedAt: Date
    /// The departments of the two sides (`admin` for an override).
    public let goldenDepartment: String
    public let challengerDepartment: String
    /// The admin's decision, once resolved.
    public let resolution: Resolution?

    public struct Resolution: Sendable {
        public let decision: String
        /// The value the field was set to (JSON).
        public let value: String
        public let reason: String
        public let by: String
        public let at: Date
    }
}

/// A rejected source record with every reason (never the values in the reasons).
public struct RejectView: Sendable {
    public let id: Int64
    public let adapter: String
    public let sourceKey: String?
    public let position: String
    /// JSON array of `{field, rule, message, severity}`.
    public let issues: String
    public let status: String
    public let createdAt: Date
}

extension RecordStore {
    /// The golden record (or one of its earlier versions).
    public func entity(resource: String, id: String, version: Int? = nil) throws -> EntityView? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try pool.withConnection { c in
            let row: Row?
            if let version {
                // The current version lives in entities, superseded ones in entity_versions.
                row = try c.query("""
                    SELECT id, resource, identity_key, version, record::text AS record, provenance::text AS provenance, updated_at
                    FROM entities WHERE resource = $1 AND id = $2::uuid AND version = $3
                    UNION ALL
                    SELECT e.id, e.resource, e.identity_key, v.version, v.record::text, v.provenance::text, v.created_at
                    FROM entity_versions v JOIN entities e ON e.id = v.entity_id
                    WHERE e.resource = $1 AND e.id = $2::uuid AND v.version = $3
                    """, [resource, id, version]).first
            } else {
                row = try c.query("""
                    SELECT id, resource, identity_key, version, record::text AS record, provenance::text AS provenance, updated_at
                    FROM entities WHERE resource = $1 AND id = $2::uuid AND version > 0
                    """, [resource, id]).first
            }
            return try row.map(Self.entityView)
        }
    }

    /// The golden record with this identity key (values in key order joined by "|"; for a Person,
    /// the normalized citizen ID number).
    public func entity(resource: String, identityKey: String) throws -> EntityView? {
        try pool.withConnection { c in
            try c.query("""
                SELECT id, resource, identity_key, version, record::text AS record, provenance::text AS provenance, updated_at
                FROM entities WHERE resource = $1 AND identity_key = $2 AND version > 0
                """, [resource, identityKey]).first.map(Self.entityView)
        }
    }

    /// Version numbers of an entity, oldest first.
    public func versions(resource: String, id: String) throws -> [Int] {
        guard UUID(uuidString: id) != nil else { return [] }
        return try pool.withConnection { c in
            try c.query("""
                SELECT v.version FROM entity_versions v JOIN entities e ON e.id = v.entity_id
                WHERE e.resource = $1 AND e.id = $2::uuid
                UNION
                SELECT version FROM entities WHERE resource = $1 AND id = $2::uuid AND version > 0
                ORDER BY version
                """, [resource, id]).rows.map { try $0.decode(Int.self, "version") }
        }
    }

    /// Rejects by adapter and status, in id order, after `afterID`.
    public func rejects(adapter: String?, status: String?, afterID: Int64, limit: Int) throws -> [RejectView] {
        try pool.withConnection { c in
            try c.query("""
                SELECT id, adapter, source_key, position, issues::text AS issues, status, created_at FROM rejects
                WHERE ($1::text IS NULL OR adapter = $1) AND ($2::text IS NULL OR status = $2) AND id > $3
                ORDER BY id LIMIT $4
                """, [adapter, status, afterID, limit]).rows.map { row in
                RejectView(id: try row.decode(Int64.self, "id"), adapter: try row.decode(String.self, "adapter"),
                           sourceKey: try row.decodeIfPresent(String.self, "source_key"), position: try row.decode(String.self, "position"),
                           issues: try row.decode(String.self, "issues"), status: try row.decode(String.self, "status"),
                           createdAt: try row.decode(Date.self, "created_at"))
            }
        }
    }

    /// The stored source record of an open reject, ready to be mapped again.
    public func rejectedRecord(id: Int64) throws -> (adapter: String, record: SourceRecord)? {
        try pool.withConnection { c in
            guard let row = try c.query("SELECT adapter, source_key, position, record::text AS record FROM rejects WHERE id = $1 AND status = 'open'",
                                        [id]).first,
                  let text = row["record"], case .object(let object) = try JSON5.parseJSON(text) else { return nil }
            let fields = SourceObject(object.members.map { ($0.key, SourceValue($0.value)) })
            return (try row.decode(String.self, "adapter"),
                    SourceRecord(fields: fields, locator: SourceLocator(file: "reject \(id)"), sourceKey: row["source_key"]))
        }
    }

    /// Marks a reject as retried (its record was accepted on a later try).
    public func markRetried(rejectID: Int64) throws {
        try pool.withConnection { c in
            try c.execute("UPDATE rejects SET status = 'retried', retried_at = now() WHERE id = $1", [rejectID])
        }
    }

    private static func entityView(_ row: Row) throws -> EntityView {
        EntityView(id: try row.decode(String.self, "id"), resource: try row.decode(String.self, "resource"),
                   identityKey: try row.decode(String.self, "identity_key"), version: try row.decode(Int.self, "version"),
                   record: try row.decode(String.self, "record"),
                   provenance: try GoldenRecordCodec.expandedProvenanceJSON(try row.decode(String.self, "provenance")),
                   updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
