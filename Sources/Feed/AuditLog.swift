import Foundation
import Store

/// One disclosure: who received which entities' which fields, through which channel, why.
public struct AuditEntry: Sendable, Equatable {
    /// How the data left the hub.
    public enum Channel: String, Sendable, CaseIterable {
        case pull, stream, webhook, snapshot
        case adminRead = "admin_read"
        /// An admin's decision on golden records (conflict resolved, value corrected, override removed).
        case stewardship
    }

    public var actor: String
    public var purpose: String
    public var channel: Channel
    public var firstPosition: Int64?
    public var lastPosition: Int64?
    public var entityIDs: [String]
    public var fields: [String]
    /// What was done, for stewardship entries (`resolve conflict 12: take_challenger`).
    public var action: String?

    public init(actor: String, purpose: String, channel: Channel, firstPosition: Int64? = nil, lastPosition: Int64? = nil,
                entityIDs: [String], fields: [String], action: String? = nil) {
        self.action = action
        self.actor = actor
        self.purpose = purpose
        self.channel = channel
        self.firstPosition = firstPosition
        self.lastPosition = lastPosition
        self.entityIDs = entityIDs
        self.fields = fields
    }

    /// The entry for a page of projected events sent to a subscriber.
    public static func events(_ events: [ProjectedEvent], scope: SubscriptionScope, channel: Channel) -> AuditEntry {
        var ids: [String] = []
        ids.reserveCapacity(events.count)
        var seen = Set<String>(minimumCapacity: events.count)
        var fields: [String] = []
        var seenFields = Set<String>()
        var previousFields: [String] = []
        for e in events {
            if seen.insert(e.entityID).inserted { ids.append(e.entityID) }
            // Events of one resource mostly disclose the same fields: skip the set then.
            if e.disclosedFields == previousFields { continue }
            for f in e.disclosedFields where seenFields.insert(f).inserted { fields.append(f) }
            previousFields = e.disclosedFields
        }
        return AuditEntry(actor: "subscription:" + scope.subscriptionID, purpose: scope.purpose, channel: channel,
                          firstPosition: events.first?.position, lastPosition: events.last?.position, entityIDs: ids, fields: fields)
    }
}

/// A stored audit entry.
public struct AuditRecord: Sendable {
    public let id: Int64
    public let time: Date
    public let entry: AuditEntry
}

/// The append-only audit log (table `audit_log`, migration 0006_feed).
public enum AuditLog {
    /// The retention the law asks at least (PIPL art. 56: 3 years), in days.
    public static let defaultRetentionDays = 3 * 365 + 1

    /// Appends entries in one statement (in the caller's transaction, if any).
    public static func append(_ entries: [AuditEntry], in c: PostgresConnection) throws {
        guard !entries.isEmpty else { return }
        if entries.count == 1, let e = entries.first {
            // One entry (a pull page, most stream rounds): its arrays as parameters of their own.
            // Inside the unnest form below, each array is an element of an array literal, so a
            // page's 10,000 entity ids were escaped and parsed twice.
            try c.execute("""
                INSERT INTO audit_log (actor, purpose, channel, first_position, last_position, entity_ids, fields, action)
                VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text[], $8)
                """, [e.actor, e.purpose, e.channel.rawValue, e.firstPosition, e.lastPosition, e.entityIDs, e.fields, e.action])
            return
        }
        try c.execute("""
            INSERT INTO audit_log (actor, purpose, channel, first_position, last_position, entity_ids, fields, action)
            SELECT a, p, ch, NULLIF(fp, -1), NULLIF(lp, -1), e::text[], f::text[], ac
            FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[])
                AS t(a, p, ch, fp, lp, e, f, ac)
            """, [entries.map(\.actor), entries.map(\.purpose), entries.map(\.channel.rawValue),
                  entries.map { $0.firstPosition ?? -1 }, entries.map { $0.lastPosition ?? -1 },
                  entries.map { $0.entityIDs.postgresText ?? "{}" }, entries.map { $0.fields.postgresText ?? "{}" },
                  entries.map(\.action)])
    }

    /// Entries after `afterID`, oldest first, optionally for one actor or one entity.
    /// `since` and `until` bound the entry's time (inclusive, exclusive) when given.
    public static func query(actor: String?, entityID: String?, afterID: Int64, limit: Int,
                             since: Date? = nil, until: Date? = nil, in c: PostgresConnection) throws -> [AuditRecord] {
        try c.query("""
            SELECT id, time, actor, purpose, channel, first_position, last_position, action,
                   array_to_json(entity_ids)::text AS entity_ids, array_to_json(fields)::text AS fields
            FROM audit_log WHERE id > $1 AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR $3 = ANY (entity_ids))
              AND ($5::timestamptz IS NULL OR time >= $5) AND ($6::timestamptz IS NULL OR time < $6)
            ORDER BY id LIMIT $4
            """, [afterID, actor, entityID, limit, since, until]).rows.map { row in
            AuditRecord(id: try row.decode(Int64.self, "id"), time: try row.decode(Date.self, "time"),
                        entry: AuditEntry(actor: try row.decode(String.self, "actor"), purpose: try row.decode(String.self, "purpose"),
                                          channel: AuditEntry.Channel(rawValue: try row.decode(String.self, "channel")) ?? .pull,
                                          firstPosition: try row.decodeIfPresent(Int64.self, "first_position"),
                                          lastPosition: try row.decodeIfPresent(Int64.self, "last_position"),
                                          entityIDs: try Self.strings(row.decode(String.self, "entity_ids")),
                                          fields: try Self.strings(row.decode(String.self, "fields")),
                                          action: row["action"]))
        }
    }

    /// Deletes entries older than `retentionDays` through `audit_log_purge` (migration 0010: the
    /// only deletion the table's trigger allows, and the runtime role needs no DELETE right for it)
    /// and returns how many went.
    @discardableResult
    public static func purge(retentionDays: Int, in c: PostgresConnection) throws -> Int {
        precondition(retentionDays >= 1, "audit retention must be at least a day")
        return try c.query("SELECT audit_log_purge($1) AS removed", [retentionDays])[0].decode(Int.self, "removed")
    }

    private static func strings(_ json: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }
}
