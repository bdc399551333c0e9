import CLibPQ
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
///
/// The record and sources are kept as the UTF-8 bytes PostgreSQL sent (`recordBytes`,
/// `sourcesBytes`): the feed projects records on their bytes and never needs them as Strings.
public struct ChangeEvent: Sendable, Equatable {
    public let position: Int64
    public let resource: String
    public let entityID: String
    public let version: Int
    public let operation: String
    public let changedFields: [String]
    /// The record after the change as JSON text (UTF-8), as PostgreSQL printed it.
    public let recordBytes: [UInt8]
    /// The sources array as JSON text (UTF-8).
    public let sourcesBytes: [UInt8]
    public let time: Date

    public init(position: Int64, resource: String, entityID: String, version: Int, operation: String, changedFields: [String],
                recordBytes: [UInt8], sourcesBytes: [UInt8], time: Date) {
        self.position = position
        self.resource = resource
        self.entityID = entityID
        self.version = version
        self.operation = operation
        self.changedFields = changedFields
        self.recordBytes = recordBytes
        self.sourcesBytes = sourcesBytes
        self.time = time
    }

    /// The record after the change, as JSON text.
    public var record: String { String(decoding: recordBytes, as: UTF8.self) }
    /// The sources of the changed values, as JSON text (an array).
    public var sources: String { String(decoding: sourcesBytes, as: UTF8.self) }
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
        return try decodeEvents(result)
    }

    /// Decodes the rows of `read` straight from libpq's buffers: no `String(cString:)` (which
    /// validates every cell as UTF-8 again) per cell; the record and sources stay bytes. Values
    /// that repeat from row to row (resource, operation, changed fields, commit time: a writer's
    /// batch shares them) are decoded once and reused.
    static func decodeEvents(_ result: QueryResult) throws -> [ChangeEvent] {
        let r = result.result
        var events: [ChangeEvent] = []
        events.reserveCapacity(result.count)
        var lastResource: (bytes: [UInt8], value: String) = ([], "")
        var lastFields: (bytes: [UInt8], value: [String]) = ([], [])
        var lastTime: (bytes: [UInt8], value: Date) = ([], Date(timeIntervalSince1970: 0))
        func cell(_ row: Int32, _ column: Int32, _ name: String) throws -> UnsafeRawBufferPointer {
            guard PQgetisnull(r, row, column) == 0, let p = PQgetvalue(r, row, column) else {
                throw PostgresError(kind: .decoding, message: "column \(name) is NULL")
            }
            return UnsafeRawBufferPointer(start: p, count: Int(PQgetlength(r, row, column)))
        }
        func integer(_ b: UnsafeRawBufferPointer, _ name: String) throws -> Int64 {
            var v: Int64 = 0
            var negative = false
            var i = 0
            if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            guard i < b.count else { throw PostgresError(kind: .decoding, message: "column \(name) does not decode as an integer") }
            while i < b.count {
                let d = b[i]
                guard d >= 48 && d <= 57 else { throw PostgresError(kind: .decoding, message: "column \(name) does not decode as an integer") }
                v = v &* 10 &+ Int64(d - 48)
                i += 1
            }
            return negative ? -v : v
        }
        func same(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
            guard a.count == b.count else { return false }
            if a.isEmpty { return true }
            return a.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
        }
        for row in 0..<Int32(result.count) {
            let position = try integer(try cell(row, 0, "position"), "position")
            let resourceBytes = try cell(row, 1, "resource")
            if !same(lastResource.bytes, resourceBytes) || lastResource.bytes.isEmpty {
                lastResource = (Array(resourceBytes), String(decoding: resourceBytes, as: UTF8.self))
            }
            let entityID = String(decoding: try cell(row, 2, "entity_id"), as: UTF8.self)
            let version = Int(try integer(try cell(row, 3, "version"), "version"))
            let operationBytes = try cell(row, 4, "operation")
            let operation: String
            if same(Self.created, operationBytes) { operation = "created" }
            else if same(Self.updated, operationBytes) { operation = "updated" }
            else if same(Self.deleted, operationBytes) { operation = "deleted" }
            else { operation = String(decoding: operationBytes, as: UTF8.self) }
            let fieldsBytes = try cell(row, 5, "changed_fields")
            if !same(lastFields.bytes, fieldsBytes) || lastFields.bytes.isEmpty {
                lastFields = (Array(fieldsBytes), PostgresTextArray.parse(String(decoding: fieldsBytes, as: UTF8.self)))
            }
            let record = Array(try cell(row, 6, "record"))
            let sources = Array(try cell(row, 7, "sources"))
            let timeBytes = try cell(row, 8, "created_at")
            if !same(lastTime.bytes, timeBytes) || lastTime.bytes.isEmpty {
                guard let time = Date(postgresText: String(decoding: timeBytes, as: UTF8.self)) else {
                    throw PostgresError(kind: .decoding, message: "column created_at does not decode as Date")
                }
                lastTime = (Array(timeBytes), time)
            }
            events.append(ChangeEvent(position: position, resource: lastResource.value, entityID: entityID, version: version,
                                      operation: operation, changedFields: lastFields.value, recordBytes: record,
                                      sourcesBytes: sources, time: lastTime.value))
        }
        return events
    }

    static let created = Array("created".utf8), updated = Array("updated".utf8), deleted = Array("deleted".utf8)

    /// The last position written (0 for an empty log).
    public static func head(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT position FROM change_log_head")[0].decode(Int64.self, "position")
    }
}
