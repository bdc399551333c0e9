import Adapters
import Foundation
import HTTP
import JSON5
import Mapping
import RecordStore
import SourceFormats
import Store
import Telemetry

/// The source content of accepted records, kept for replay (`landing_batches`, migration 0008):
/// one row per stored batch, its accepted records as NDJSON lines `{"key": ..., "record": {...}}`,
/// written by the record store in the batch's own transaction.
public struct LandingContent: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Removes the adapter's content stored before `day` (`YYYY-MM-DD`, UTC): those records can
    /// no longer be replayed. Returns the batches and records removed.
    public func purge(adapterID: String, before day: String) throws -> (batches: Int, records: Int) {
        try pool.withConnection { c in
            let row = try c.query("""
                WITH gone AS (DELETE FROM landing_batches WHERE adapter = $1 AND stored_at < ($2::date)::timestamp AT TIME ZONE 'UTC' RETURNING records)
                SELECT count(*)::int AS batches, coalesce(sum(records), 0)::int AS records FROM gone
                """, [adapterID, day]).first
            return (Int(row?["batches"] ?? "0") ?? 0, Int(row?["records"] ?? "0") ?? 0)
        }
    }

    /// The stored batches of an adapter after batch `after`, oldest first, at most `limit`.
    func batches(adapterID: String, after: Int64, limit: Int) throws -> [(id: Int64, records: [SourceRecord])] {
        let rows = try pool.withConnection { c in
            try c.query("SELECT id, content FROM landing_batches WHERE adapter = $1 AND id > $2 ORDER BY id LIMIT $3",
                        [adapterID, after, limit]).rows
        }
        return try rows.map { row in
            let id = try row.decode(Int64.self, "id")
            var records: [SourceRecord] = []
            for (n, line) in (row["content"] ?? "").split(separator: "\n").enumerated() {
                guard case .object(let object) = try JSON5.parseJSON(String(line)), case .object(let fields)? = object["record"] else { continue }
                records.append(SourceRecord(fields: SourceObject(fields.members.map { ($0.key, SourceValue($0.value)) }),
                                            locator: SourceLocator(file: "landed batch \(id)", index: n), sourceKey: object["key"]?.stringValue))
            }
            return (id, records)
        }
    }
}

/// Re-applies an adapter's current mapping to the records it delivered before (after a mapping
/// fix): a dry run that counts, per resource and field, the golden values that differ from what
/// the mapping now gives; then the replay, stored batch after stored batch with survivorship and
/// conflicts as for fresh records, resumable after a crash or restart (`replay_runs`).
public struct Replayer: Sendable {
    public let ingest: IngestService
    var pool: ConnectionPool { ingest.store.pool }
    /// The kept source content the replay reads (and `purge` removes).
    public var content: LandingContent { LandingContent(pool: pool) }

    public init(ingest: IngestService) { self.ingest = ingest }

    /// What a replay would do; no value is read out, only counted.
    public struct DryRun: Sendable {
        public var mapping = ""
        public var version = 0
        public var records = 0
        public var accepted = 0
        public var rejected = 0
        /// Canonical records with no golden record yet.
        public var newRecords = 0
        /// `Resource.field` -> golden values that differ from what the current mapping gives.
        public var changes: [String: Int] = [:]
    }

    public func dryRun(adapterID: String) throws -> DryRun {
        let (_, plan) = try ingest.adapter(adapterID)
        var report = DryRun(mapping: plan.id, version: plan.version)
        var after: Int64 = 0
        while true {
            let batches = try content.batches(adapterID: adapterID, after: after, limit: 20)
            guard let last = batches.last else { break }
            after = last.id
            for record in batches.flatMap(\.records) {
                report.records += 1
                let result = plan.apply(record)
                if result.rejected { report.rejected += 1; continue }
                if result.skipped { continue }
                report.accepted += 1
                for canonical in result.records {
                    guard let key = ingest.registry.rules.identityKey(resource: canonical.resource, identity: canonical.identity),
                          let golden = try ingest.store.entity(resource: canonical.resource, identityKey: key),
                          case .object(let values) = try JSON5.parseJSON(golden.record) else {
                        report.newRecords += 1
                        continue
                    }
                    for field in canonical.fields {
                        var mapped = ""
                        field.value.appendJSON(to: &mapped)
                        if values[field.name]?.jsonText() != mapped { report.changes["\(canonical.resource).\(field.name)", default: 0] += 1 }
                    }
                }
            }
        }
        return report
    }

    /// A replay's progress.
    public struct Progress: Sendable {
        public var mapping = ""
        public var version = 0
        public var resumed = false
        public var batches = 0
        public var records = 0
        public var events = 0
        public var finished = false
    }

    /// Replays every stored batch of the adapter with its current mapping, resuming an unfinished
    /// replay of the same mapping version where it stopped. `progress` is called after each batch.
    public func replay(adapterID: String, progress: (Progress) -> Void = { _ in }) throws -> Progress {
        let (declaration, plan) = try ingest.adapter(adapterID)
        var state = Progress(mapping: plan.id, version: plan.version)
        var after: Int64 = 0
        let previous = try pool.withConnection { c in
            try c.query("SELECT mapping_id, mapping_version, after_batch, batches, records, events FROM replay_runs WHERE adapter = $1 AND finished_at IS NULL",
                        [adapterID]).first
        }
        if let previous, previous["mapping_id"] == plan.id, previous["mapping_version"] == String(plan.version) {
            after = try previous.decode(Int64.self, "after_batch")
            state.resumed = true
            state.batches = try previous.decode(Int.self, "batches")
            state.records = try previous.decode(Int.self, "records")
            state.events = try previous.decode(Int.self, "events")
        } else {
            try pool.withConnection { c in
                _ = try c.execute("""
                    INSERT INTO replay_runs (adapter, mapping_id, mapping_version) VALUES ($1, $2, $3)
                    ON CONFLICT (adapter) DO UPDATE SET mapping_id = EXCLUDED.mapping_id, mapping_version = EXCLUDED.mapping_version,
                      after_batch = 0, batches = 0, records = 0, events = 0, started_at = now(), finished_at = NULL
                    """, [adapterID, plan.id, plan.version])
            }
        }
        while true {
            let batches = try content.batches(adapterID: adapterID, after: after, limit: 1)
            guard let batch = batches.first else { break }
            // Landing is not consulted (the content was landed before); unchanged values write
            // nothing and emit no event. A crash before the progress update replays this batch
            // again, which changes nothing more.
            let outcome = try ingest.store.ingest(batch.records.map { .record($0) }, adapter: IngestSource(declaration), plan: plan, reprocess: true, keepsContent: false)
            after = batch.id
            state.batches += 1
            state.records += batch.records.count
            state.events += outcome.events
            try pool.withConnection { c in
                _ = try c.execute("UPDATE replay_runs SET after_batch = $2, batches = $3, records = $4, events = $5 WHERE adapter = $1",
                                  [adapterID, after, state.batches, state.records, state.events])
            }
            progress(state)
        }
        try pool.withConnection { c in
            _ = try c.execute("UPDATE replay_runs SET finished_at = now() WHERE adapter = $1", [adapterID])
        }
        state.finished = true
        return state
    }
}

extension Replayer {
    /// A replayer on the hub's database without a running hub (`recordonce mapping replay`): the
    /// adapters of the folder and those registered over the API, with the newest published
    /// mappings. Call the returned closure when done.
    public static func offline(_ configuration: HubConfiguration, logger: Logger) throws -> (Replayer, @Sendable () -> Void) {
        let registry = try IngestRegistry.load(configuration, logger: logger)
        let database = try HubDatabase.open(configuration, logger: logger)
        try database.migrate(logger: logger)
        let pool = ConnectionPool(url: database.url, maxConnections: 2)
        let registrations = AdapterRegistrations(registry: registry, store: AdapterRunStore(pool: pool),
                                                 configuration: configuration, logger: logger)
        try registrations.refresh()
        let replayer = Replayer(ingest: IngestService(registry: registry, store: RecordStore(pool: pool, rules: registry.rules)))
        return (replayer, { pool.close(); database.close() })
    }

    /// The dry run as JSON: counts only, never values.
    public static func json(_ r: DryRun) -> String {
        var w = JSONWriter()
        w.raw("dry_run", "true")
        w.string("mapping", r.mapping)
        w.number("version", r.version)
        w.number("records", r.records)
        w.number("accepted", r.accepted)
        w.number("rejected", r.rejected)
        w.number("new_records", r.newRecords)
        w.objects("changes", r.changes.keys.sorted()) { w, key in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            w.string("resource", parts[0])
            w.string("field", parts.count > 1 ? parts[1] : "")
            w.number("golden_values", r.changes[key]!)
        }
        return w.json
    }

    public static func json(_ p: Progress) -> String {
        var w = JSONWriter()
        w.raw("dry_run", "false")
        w.string("mapping", p.mapping)
        w.number("version", p.version)
        w.raw("resumed", p.resumed ? "true" : "false")
        w.number("batches", p.batches)
        w.number("records", p.records)
        w.number("events", p.events)
        w.raw("finished", p.finished ? "true" : "false")
        return w.json
    }
}

/// `POST /v1/adapters/{id}/replay` (admin): `{"dry_run": true}` (the default) reports, `false` replays.
struct ReplayRoutes {
    let replayer: Replayer
    let auth: Authenticator
    private let running = RunningReplays()

    init(replayer: Replayer, auth: Authenticator) {
        self.replayer = replayer
        self.auth = auth
    }

    func register(on router: Router) {
        router.add(.POST, "/v1/adapters/{id}/replay") { request in
            try auth.requireAdmin(request)
            let id = try Query.path(request, "id")
            var dryRun = true
            if !request.body.isEmpty {
                guard let object = try? JSON5.parseJSON(request.body, file: "body").objectValue else {
                    throw HTTPError.badRequest("send {\"dry_run\": true} to see what a replay would change, {\"dry_run\": false} to replay",
                                               code: "invalid_json")
                }
                if let flag = object["dry_run"] {
                    guard let value = flag.boolValue else { throw HTTPError.badRequest("dry_run must be true or false", code: "invalid_request") }
                    dryRun = value
                }
            }
            if dryRun { return .jsonText(Replayer.json(try replayer.dryRun(adapterID: id))) }
            guard running.start(id) else { throw HTTPError.conflict("a replay of adapter '\(id)' is running") }
            defer { running.end(id) }
            return .jsonText(Replayer.json(try replayer.replay(adapterID: id)))
        }
    }
}

/// Adapters being replayed by this process (one replay per adapter at a time).
final class RunningReplays: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<String> = []
    func start(_ id: String) -> Bool { lock.withLock { ids.insert(id).inserted } }
    func end(_ id: String) { _ = lock.withLock { ids.remove(id) } }
}
