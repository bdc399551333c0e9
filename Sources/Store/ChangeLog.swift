import Foundation

/// A change to append to the log (the position and time are assigned when it is written).
public struct NewChangeEvent: Sendable {
    public enum Operation: String, Sendable { case created, updated, deleted }

    public var resource: String
    public var entityID: String
    public var version: Int
    public var operation: Operation
    public var changedFields: [String]
    /// The record after the change, as JSON text; nil when the entity version it names holds
    /// the record (entities / entity_versions), which `read` then joins in.
    public var record: String?
    /// The sources of the changed values, as JSON text (an array).
    public var sources: String

    public init(resource: String, entityID: String, version: Int, operation: Operation,
                changedFields: [String], record: String?, sources: String = "[]") {
        self.resource = resource
        self.entityID = entityID
        self.version = version
        self.operation = operation
        self.changedFields = changedFields
        self.record = record
        self.sources = sources
    }
}

/// A change as stored in the log.
public struct ChangeEvent: Sendable, Equatable {
    public let position: Int64
    public let resource: String
    public let entityID: String
    public let version: Int
    public let operation: String
    public let changedFields: [String]
    public let record: String
    public let sources: String
    public let time: Date
}

/// The change log: the feed's outbox, gap-free and in commit order.
///
/// `append` must run inside the writer's transaction and should be its last statement: it takes
/// the next positions from `change_log_head`, whose row lock is then held until the transaction
/// ends. A second writer waits for that lock, so positions are handed out in commit order and a
/// reader asking for "events after P" never sees P+2 before P+1 has committed. (A plain bigserial
/// does not give this: a later number can commit first, and a reader that moved past it would
/// never see the earlier one.) Writers are serialized only for the few milliseconds between
/// taking the positions and committing.
public enum ChangeLog {
    /// The channel notified (with the last position as payload) when events commit.
    public static let channel = "recordonce_changes"

    /// Appends events in the current transaction and returns the last position written
    /// (or nil when `events` is empty).
    @discardableResult
    public static func append(_ events: [NewChangeEvent], in connection: PostgresConnection) throws -> Int64? {
        guard !events.isEmpty else { return nil }
        precondition(connection.inTransaction, "ChangeLog.append must run inside the writer's transaction")
        let head = try connection.query(
            "UPDATE change_log_head SET position = position + $1 RETURNING position", [events.count])
        let last = try head[0].decode(Int64.self, "position")
        let first = last - Int64(events.count) + 1
        if events.count < 64 {
            try connection.execute("""
                INSERT INTO change_log (position, resource, entity_id, version, operation, changed_fields, record, sources)
                SELECT $1 + n - 1, r, e, v, o, f::text[], rec::jsonb, s::json
                FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])
                     WITH ORDINALITY AS t(r, e, v, o, f, rec, s, n)
                """, [first, events.map(\.resource), events.map(\.entityID), events.map(\.version),
                      events.map(\.operation.rawValue), events.map { $0.changedFields.postgresText ?? "{}" },
                      events.map(\.record), events.map(\.sources)])
        } else {
            try connection.copyIn("COPY change_log (position, resource, entity_id, version, operation, changed_fields, record, sources) FROM STDIN") { w in
                for (i, e) in events.enumerated() {
                    try w.appendRow([String(first + Int64(i)), e.resource, e.entityID, String(e.version), e.operation.rawValue,
                                     e.changedFields.postgresText ?? "{}", e.record, e.sources])
                }
            }
        }
        try connection.notify(channel, payload: String(last))
        return last
    }

    /// Up to `limit` events after `position`, in order. An event without an inline record gets
    /// the record of the entity version it names: the current one from `entities`, a superseded
    /// one from `entity_versions` (both written in the event's transaction, so always there).
    public static func read(after position: Int64, limit: Int, from connection: PostgresConnection) throws -> [ChangeEvent] {
        let result = try connection.query("""
            SELECT l.position, l.resource, l.entity_id, l.version, l.operation,
                   l.changed_fields::text AS changed_fields,
                   COALESCE(l.record::text,
                            (SELECT e.record::text FROM entities e
                             WHERE e.id = (CASE WHEN l.record IS NULL THEN l.entity_id::uuid END) AND e.version = l.version),
                            (SELECT v.record::text FROM entity_versions v
                             WHERE v.entity_id = (CASE WHEN l.record IS NULL THEN l.entity_id::uuid END) AND v.version = l.version),
                            'null') AS record,
                   l.sources::text AS sources, l.created_at
            FROM change_log l WHERE l.position > $1 ORDER BY l.position LIMIT $2
            """, [position, limit])
        return try result.rows.map { row in
            return ChangeEvent(position: try row.decode(Int64.self, "position"),
                               resource: try row.decode(String.self, "resource"),
                               entityID: try row.decode(String.self, "entity_id"),
                               version: try row.decode(Int.self, "version"),
                               operation: try row.decode(String.self, "operation"),
                               changedFields: PostgresTextArray.parse(try row.decode(String.self, "changed_fields")),
                               record: try row.decode(String.self, "record"),
                               sources: try row.decode(String.self, "sources"),
                               time: try row.decode(Date.self, "created_at"))
        }
    }

    /// The last position written (0 for an empty log).
    public static func head(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT position FROM change_log_head")[0].decode(Int64.self, "position")
    }
}
