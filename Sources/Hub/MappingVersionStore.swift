import Foundation
import JSON5
import Secrets
import Store

/// One version of a mapping: published over the API, or the file in the mappings folder.
public struct MappingVersion: Sendable, Equatable {
    public let id: String
    public let version: Int
    public let text: String
    /// `MappingVersion.digest(of:)` of the text.
    public let digest: String
    /// ISO 8601 time of publication; nil for a mapping file.
    public let publishedAt: String?

    public init(id: String, version: Int, text: String, digest: String, publishedAt: String?) {
        self.id = id
        self.version = version
        self.text = text
        self.digest = digest
        self.publishedAt = publishedAt
    }

    /// SHA-256 (hex) of what compiles into the plan: the mapping without `version` and
    /// `description`, keys sorted, comments and layout gone. nil when the text is not JSON5.
    public static func digest(of text: String) -> String? {
        guard case .object(var root) = try? JSON5.parseDocument(text, file: "mapping").value else { return nil }
        root.members.removeAll { $0.key == "version" || $0.key == "description" }
        return Secrets.hex(Secrets.sha256(JSONValue.object(root).jsonText(sortedKeys: true)))
    }
}

/// The `mapping_versions` table (migration 0008): every published version is kept; the newest
/// one of an id is the one adapters apply.
public struct MappingVersionStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        mapping_id, version, text, plan_digest,
        to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS published_at
        """

    /// The newest published version of every mapping id.
    public func newest() throws -> [String: MappingVersion] {
        try pool.withConnection { c in
            let rows = try c.query("SELECT DISTINCT ON (mapping_id) \(Self.columns) FROM mapping_versions ORDER BY mapping_id, version DESC").rows
            var out: [String: MappingVersion] = [:]
            for row in rows {
                let version = try Self.version(row)
                out[version.id] = version
            }
            return out
        }
    }

    /// Every published version of one mapping, oldest first.
    public func versions(id: String) throws -> [MappingVersion] {
        try pool.withConnection { c in
            try c.query("SELECT \(Self.columns) FROM mapping_versions WHERE mapping_id = $1 ORDER BY version", [id]).rows.map(Self.version)
        }
    }

    /// Stores a new version; false when that version of the id exists already.
    public func insert(id: String, version: Int, text: String, digest: String) throws -> Bool {
        try pool.withConnection { c in
            try c.execute("""
                INSERT INTO mapping_versions (mapping_id, version, text, plan_digest) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING
                """, [id, version, text, digest]) == 1
        }
    }

    /// Changes whenever a version is published (hub processes poll it to pick up publications).
    public func signature() throws -> String {
        try pool.withConnection { c in
            try c.query("SELECT count(*)::text || '/' || coalesce(max(published_at)::text, '') AS s FROM mapping_versions").first?["s"] ?? ""
        }
    }

    static func version(_ row: Row) throws -> MappingVersion {
        MappingVersion(id: try row.decode(String.self, "mapping_id"), version: try row.decode(Int.self, "version"),
                       text: try row.decode(String.self, "text"), digest: try row.decode(String.self, "plan_digest"),
                       publishedAt: row["published_at"])
    }
}
