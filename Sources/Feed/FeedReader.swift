import Catalog
import Foundation
import JSON5
import RecordStore
import Store

/// A page of the feed as one subscriber sees it.
public struct FeedPage: Sendable {
    public let events: [ProjectedEvent]
    /// The position to continue after: past every event read, sent or filtered out.
    public let next: Int64
}

/// Reads the change log for subscribers: projection per subscription, previous-version lookups
/// for area moves, and the audit entry of every page disclosed.
///
/// Two pools: `pool` is the primary, for everything written (audit entries, subscriptions,
/// webhook positions); `readPool` is where change log pages and snapshots are read: the primary
/// too, or a streaming replica on a feed node (`serve --feed-database-url`).
public final class FeedReader: Sendable {
    public let pool: ConnectionPool
    /// Change log pages, SSE tails and snapshots; never written through.
    public let readPool: ConnectionPool
    public let store: RecordStore
    public let catalog: Catalog
    public let subscriptions: SubscriptionStore
    /// Change log chunks read ahead for subscribers catching up.
    let readAhead = LogReadAhead()

    public init(store: RecordStore, catalog: Catalog, subscriptions: SubscriptionStore, readPool: ConnectionPool? = nil) {
        pool = store.pool
        self.readPool = readPool ?? store.pool
        self.store = store
        self.catalog = catalog
        self.subscriptions = subscriptions
    }

    /// The projector of a subscription, with previous versions read from the entity history
    /// (`entity_versions` through RecordReads).
    public func projector(for subscription: Subscription) -> EventProjector {
        let store = self.store
        return EventProjector(scope: SubscriptionScope(subscription, catalog: catalog)) { resource, id, version in
            guard let previous = try store.entity(resource: resource, id: id, version: version),
                  case .object(let object) = try JSON5.parseJSON(previous.record) else { return nil }
            return object
        }
    }

    /// Up to `limit` events after `after` that the projector lets through. Reads the log in
    /// chunks and stops after scanning `maxScan` events, so a subscriber that sees little of a
    /// busy log still gets an answer (empty, with `next` moved on).
    public func page(_ projector: EventProjector, after: Int64, limit: Int, maxScan: Int = 100_000) throws -> FeedPage {
        var out: [ProjectedEvent] = []
        var next = after
        var scanned = 0
        // A large page's first read asks for `limit` rows (most subscribers see most events;
        // reading twice that decoded and then dropped half of every page), later reads for more,
        // to get past events the projector filters out.
        let firstChunk = limit >= 500 ? limit : min(500, limit * 2)
        var chunk = firstChunk
        var lastReadWasFull = false
        /// Projects one chunk; false when the page is done.
        func consume(_ raw: [ChangeEvent]) throws -> Bool {
            lastReadWasFull = raw.count == chunk
            // A full chunk this page takes whole (even if every event passes) ends where the next
            // page starts: read that one now, while this one is projected, audited and sent.
            if lastReadWasFull, raw.count <= limit - out.count, let last = raw.last {
                readAhead.start(after: last.position, limit: firstChunk, pool: readPool)
            }
            var i = 0
            for slice in try Self.projectSlices(raw, projector) {
                for projected in slice {
                    if let projected { out.append(projected) }
                    next = raw[i].position
                    i += 1
                    if out.count == limit { return false }
                }
            }
            scanned += raw.count
            if raw.count < chunk { return false }
            chunk = min(5_000, max(500, (limit - out.count) * 2))
            return out.count < limit && scanned < maxScan
        }
        // The first chunk may already have been read while the previous page was being sent.
        var more = true
        if let ahead = readAhead.take(after: after, limit: chunk) { more = try consume(ahead) }
        if more {
            try readPool.withConnection { c in
                while try consume(try ChangeLog.read(after: next, limit: chunk, from: c)) {}
            }
        }
        // A subscriber catching up asks for the page after this one next: read it now, on another
        // connection, while this page is audited and sent.
        if lastReadWasFull { readAhead.start(after: next, limit: firstChunk, pool: readPool) }
        return FeedPage(events: out, next: next)
    }

    /// Events below this many are projected on the calling thread.
    static let parallelProjectionMinimum = 256

    /// Each event of a chunk parsed and projected (nil: not for this subscriber), in log order.
    /// A large chunk is split over the cores: a subscriber catching up waits for its page's
    /// projection, which is the hub's own work per event (the read is ahead, the client and the
    /// database are idle meanwhile).
    static func project(_ raw: [ChangeEvent], _ projector: EventProjector) throws -> [ProjectedEvent?] {
        try projectSlices(raw, projector).flatMap { $0 }
    }

    /// `project`'s answer as the workers' slices, in order (not copied into one array).
    static func projectSlices(_ raw: [ChangeEvent], _ projector: EventProjector) throws -> [[ProjectedEvent?]] {
        // More slices than cores, handed out as workers come free: a core that PostgreSQL (the
        // next chunk's read) or the network takes for a while then delays one small slice, not
        // half of the chunk.
        let workers = raw.count >= parallelProjectionMinimum
            ? min(ProjectedSlices.cores * 4, raw.count / (parallelProjectionMinimum / 2)) : 1
        @Sendable func projected(_ changes: [ParsedChange]) throws -> [ProjectedEvent?] {
            var memo = ProjectionMemo()
            return try changes.map { try projector.project($0, memo: &memo) }
        }
        if workers <= 1 { return [try projected(ParsedChange.parse(raw))] }
        let slices = ProjectedSlices(count: workers)
        let size = (raw.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let range = (w * size)..<min(raw.count, (w + 1) * size)
            slices.set(w, Result { try projected(ParsedChange.parse(raw[range])) })
        }
        return try slices.inOrder()
    }

    /// Records that `events` were disclosed to the projector's subscriber.
    public func audit(_ events: [ProjectedEvent], _ projector: EventProjector, channel: AuditEntry.Channel) throws {
        guard !events.isEmpty else { return }
        try pool.withConnection { c in
            try AuditLog.append([AuditEntry.events(events, scope: projector.scope, channel: channel)], in: c)
        }
    }

    /// `audit`, written on another thread while `prepare` makes what will be sent (the response
    /// body of a page: 10,000 events are several megabytes to copy). Returns `prepare`'s answer
    /// once the audit entry is committed, and throws the audit's error instead: nothing prepared
    /// here may leave the hub unless its disclosure is on record.
    public func audit<Prepared>(_ events: [ProjectedEvent], _ projector: EventProjector, channel: AuditEntry.Channel,
                                whilePreparing prepare: () -> Prepared) throws -> Prepared {
        guard events.count >= Self.concurrentAuditMinimum else {
            try audit(events, projector, channel: channel)
            return prepare()
        }
        let written = AuditWrite()
        DispatchQueue.global().async { [self] in
            written.finish(Result { try audit(events, projector, channel: channel) })
        }
        let prepared = prepare()
        try written.wait()
        return prepared
    }

    /// Pages below this many events are audited before they are prepared (a thread hop costs
    /// more than it saves).
    public static let concurrentAuditMinimum = 1_000

    /// One snapshot page of golden records, in entity id order after `afterID`, under the
    /// subscriber's scope, with the feed position it is consistent with.
    ///
    /// Without `asOf`, the page is the current state: read in one REPEATABLE READ transaction
    /// together with the change log head, so every change up to that position is in the rows and
    /// none after it. With `asOf` (the position the first page returned), the page shows every
    /// record as it was at that position: records created later are left out, and a record
    /// changed later is read in the version it had then (from `entity_versions`). So all pages of
    /// one snapshot agree on one position, and the feed continues after it with no gap or overlap.
    public func snapshot(_ projector: EventProjector, resource: String, afterID: String?, limit: Int,
                         asOf: Int64? = nil) throws -> SnapshotPage {
        guard let scope = projector.scope.resources[resource] else {
            throw FeedError.forbidden("this subscription does not include \(resource)")
        }
        if let afterID, UUID(uuidString: afterID) == nil { throw FeedError.invalid("after must be an entity id from the previous page") }
        let area = projector.scope.area.map { $0 + "%" }
        return try readPool.withConnection { c in
            try c.executeScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { try? c.executeScript("COMMIT") }
            let head = try ChangeLog.head(c)
            if let asOf, asOf < 0 || asOf > head {
                throw FeedError.invalid("position must be a feed position between 0 and the head (\(head))")
            }
            let after = afterID ?? "00000000-0000-0000-0000-000000000000"
            let rows: [Row]
            if let asOf, asOf < head {
                rows = try c.query(Self.snapshotAsOfSQL, [resource, after, limit, area, scope.areaFields, asOf]).rows
            } else {
                rows = try c.query(Self.snapshotSQL, [resource, after, limit, area, scope.areaFields]).rows
            }
            var records: [SnapshotRecord] = []
            for row in rows {
                let text = try row.decode(String.self, "record")
                guard case .object(let object) = try JSON5.parseJSON(text),
                      projector.inArea(object, resource: resource),
                      let (json, fields) = projector.render(object, resource: resource) else { continue }
                records.append(SnapshotRecord(entityID: try row.decode(String.self, "id"), version: try row.decode(Int.self, "version"),
                                              record: json, fields: fields))
            }
            let last = rows.last.flatMap { $0["id"] }
            return SnapshotPage(resource: resource, position: asOf ?? head, records: records,
                                next: rows.count == limit ? last : nil)
        }
    }

    /// The current records of a resource after an entity id, pre-filtered by area in SQL
    /// ($4: area prefixes with `%`, $5: the division fields); the projector checks again.
    static let snapshotSQL = """
        SELECT e.id::text AS id, e.version, e.record::text AS record FROM entities e
        WHERE e.resource = $1 AND e.version > 0 AND e.id > $2::uuid
          AND (cardinality($4::text[]) = 0 OR EXISTS (
                SELECT 1 FROM unnest($4::text[]) p, unnest($5::text[]) f WHERE e.record->>f LIKE p))
        ORDER BY e.id LIMIT $3
        """

    /// The same, as of feed position $6: each entity's last version whose change event is at or
    /// before it (none: the entity did not exist yet), from `entities` or `entity_versions`.
    static let snapshotAsOfSQL = """
        SELECT e.id::text AS id, v.version, v.record::text AS record
        FROM entities e
        CROSS JOIN LATERAL (
            SELECT max(cl.version) AS version FROM change_log cl
            WHERE cl.resource = $1 AND cl.entity_id = e.id::text AND cl.position <= $6
        ) at
        CROSS JOIN LATERAL (
            SELECT e.version, e.record WHERE e.version = at.version
            UNION ALL
            SELECT ev.version, ev.record FROM entity_versions ev
            WHERE ev.entity_id = e.id AND ev.version = at.version AND e.version <> at.version
        ) v
        WHERE e.resource = $1 AND e.id > $2::uuid AND at.version IS NOT NULL
          AND (cardinality($4::text[]) = 0 OR EXISTS (
                SELECT 1 FROM unnest($4::text[]) p, unnest($5::text[]) f WHERE v.record->>f LIKE p))
        ORDER BY e.id LIMIT $3
        """
}

/// One golden record as a subscriber sees it in a snapshot.
public struct SnapshotRecord: Sendable {
    public let entityID: String
    public let version: Int
    public let record: String
    public let fields: [String]
}

/// A page of a snapshot and the feed position it is consistent with.
public struct SnapshotPage: Sendable {
    public let resource: String
    public let position: Int64
    public let records: [SnapshotRecord]
    /// The `after` of the next page; nil on the last page.
    public let next: String?
}

/// Change log chunks read before they are asked for: after a full page, the next chunk is read on
/// another connection while the page is audited and sent, so a subscriber catching up (pull pages
/// or an SSE stream behind the tail) finds it ready. Positions are gap-free and a committed event
/// never changes, so a chunk read early is the chunk read late, as long as it was full (a short
/// chunk ended at the head of that moment; it is dropped and read again). At most `capacity`
/// chunks are held; the oldest is dropped for a new one.
final class LogReadAhead: @unchecked Sendable {
    struct Key: Hashable {
        let after: Int64
        let limit: Int
    }

    final class Slot: @unchecked Sendable {
        let condition = NSCondition()
        var result: [ChangeEvent]?
        var done = false

        func finish(_ events: [ChangeEvent]?) {
            condition.lock()
            result = events
            done = true
            condition.broadcast()
            condition.unlock()
        }

        /// The chunk, waiting for its read to end (nil when it failed or took too long).
        func wait() -> [ChangeEvent]? {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date().addingTimeInterval(10)
            while !done { if !condition.wait(until: deadline) { return nil } }
            return result
        }
    }

    let capacity = 4
    private let lock = NSLock()
    private var slots: [Key: Slot] = [:]
    private var order: [Key] = []

    /// The chunk read ahead for (`after`, `limit`), if one was started and came back full.
    func take(after: Int64, limit: Int) -> [ChangeEvent]? {
        let key = Key(after: after, limit: limit)
        let slot = lock.withLock { () -> Slot? in
            guard let slot = slots.removeValue(forKey: key) else { return nil }
            order.removeAll { $0 == key }
            return slot
        }
        guard let events = slot?.wait(), events.count == limit else { return nil }
        return events
    }

    /// Starts reading the chunk (`after`, `limit`) on a connection of `pool` (nothing when it is
    /// already being read).
    func start(after: Int64, limit: Int, pool: ConnectionPool) {
        let key = Key(after: after, limit: limit)
        let slot = Slot()
        let started = lock.withLock { () -> Bool in
            if slots[key] != nil { return false }
            if order.count >= capacity, let oldest = order.first {
                order.removeFirst()
                slots.removeValue(forKey: oldest)
            }
            slots[key] = slot
            order.append(key)
            return true
        }
        guard started else { return }
        DispatchQueue.global().async {
            let events = try? pool.withConnection { try ChangeLog.read(after: after, limit: limit, from: $0) }
            slot.finish(events)
        }
    }
}

/// The projected slices of one chunk, filled by concurrent workers (each writes its own slot).
final class ProjectedSlices: @unchecked Sendable {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    private let lock = NSLock()
    private var results: [Result<[ProjectedEvent?], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[ProjectedEvent?], any Error>) { lock.withLock { results[index] = result } }

    /// The slices in order; the first error if a worker failed.
    func inOrder() throws -> [[ProjectedEvent?]] {
        try lock.withLock({ results }).map { try $0!.get() }
    }
}

/// The outcome of an audit entry written on another thread.
final class AuditWrite: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Void, any Error>?

    func finish(_ outcome: Result<Void, any Error>) {
        condition.lock()
        result = outcome
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the write; rethrows its error.
    func wait() throws {
        condition.lock()
        while result == nil { condition.wait() }
        let outcome = result!
        condition.unlock()
        try outcome.get()
    }
}
