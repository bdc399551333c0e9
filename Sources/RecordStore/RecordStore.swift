import Foundation
import Mapping
import Secrets
import SourceFormats
import Store
import Telemetry

/// The record-once store: turns batches of source records into golden records, provenance,
/// history, conflicts, rejects and change events, one transaction per batch.
///
/// For each batch:
/// 1. landing: a record this adapter already delivered with the same content (and, if it was
///    rejected, under the same mapping version) is `unchanged` and goes no further;
/// 2. the compiled mapping turns the rest into canonical records or rejections;
/// 3. identity resolution: entities are found (or created) by resource and identity key and
///    locked in key order, so concurrent batches cannot deadlock;
/// 4. survivorship merges every observation; changed entities get a new version;
/// 5. conflicts, rejects, landing, the adapter's checkpoint and the change events are written in
///    the same transaction, the change log last.
public final class RecordStore: Sendable {
    public let pool: ConnectionPool
    public let rules: StoreRules
    /// How many existing entities of a batch survivorship holds in memory at once (their decoded
    /// fields and outcomes, about 16 kB each); the rest of the batch waits its turn. Any value
    /// stores the same; the equivalence test compares a small one with an unlimited one.
    public let existingSlice: Int
    /// Which resources' first versions the reader prepares ahead (see `FirstVersionUse`).
    let firstVersionUse: FirstVersionUse
    public static let defaultExistingSlice = 500

    public init(pool: ConnectionPool, rules: StoreRules, existingSlice: Int = RecordStore.defaultExistingSlice,
                firstVersions: FirstVersionUse.Mode = .adaptive) {
        self.pool = pool
        self.rules = rules
        self.existingSlice = max(1, existingSlice)
        self.firstVersionUse = FirstVersionUse(mode: firstVersions)
    }

    /// Stores one batch from `adapter` read with `plan`. `checkpoint` (pull adapters) is saved in
    /// the same transaction. With `reprocess`, landing is not consulted (retrying rejects,
    /// replaying). `keepsContent`: the accepted records' source content is kept for a later
    /// replay, in the same transaction (a replay passes false: it stores nothing again).
    public func ingest(_ items: [SourceReadItem], adapter: IngestSource, plan: MappingPlan,
                       checkpoint: String? = nil, reprocess: Bool = false, keepsContent: Bool = true, now: Date = Date()) throws -> BatchOutcome {
        let batch = try prepare(items, adapter: adapter, plan: plan, consultLanding: !reprocess, now: now)
        return try ingest(batch, adapter: adapter, plan: plan, checkpoint: checkpoint, reprocess: reprocess, keepsContent: keepsContent)
    }

    /// The work on a batch that needs no transaction: content hashes and source keys, a look at
    /// landing for content delivered before (nothing more is done for those), the mapping of the
    /// rest, and the JSON of each canonical record as a first version. An import prepares batch
    /// N+1 on another thread while batch N is written. Without `consultLanding` every record is
    /// mapped; the write still finds those delivered before (it looks at landing again in its
    /// transaction), so the outcome is the same, only the mapping was spent for nothing.
    public func prepare(_ items: [SourceReadItem], adapter: IngestSource, plan: MappingPlan,
                        consultLanding: Bool = true, now: Date = Date()) throws -> PreparedBatch {
        var batch = PreparedBatch(items: items, adapter: adapter, plan: plan, observedAt: Timestamp.iso8601(now))
        if consultLanding, !batch.prepared.isEmpty {
            let landed = try pool.withConnection { try LandingLookup.lookup(batch.prepared.map { ($0.key, $0.hash) }, adapter: adapter.id,
                                                                             mappingVersion: plan.version, in: $0).settled }
            for i in batch.prepared.indices where landed.contains(LandingKey(key: batch.prepared[i].key, hash: batch.prepared[i].hash)) {
                batch.prepared[i].landedBefore = true
            }
        }
        batch.map(plan: plan, adapter: adapter, rules: rules, prepareFirst: firstVersionUse.worthPreparing)
        return batch
    }

    /// Stores a prepared batch in one transaction. `plan` must be the plan it was prepared with.
    ///
    /// `awaitTurn`, for a writer that stores the next batch while this one is still being written
    /// (see `PreparedBatch.dependsOn`): called, inside the transaction, before the part of the
    /// work that must come after the previous batch's commit (matching, then the counters,
    /// rejects and change events). It returns once that batch committed, or throws to roll this
    /// one back. A transaction that retries after a lost connection calls it again.
    public func ingest(_ batch: PreparedBatch, adapter: IngestSource, plan: MappingPlan,
                       checkpoint: String? = nil, reprocess: Bool = false, keepsContent: Bool = true,
                       awaitTurn: () throws -> Void = {}) throws -> BatchOutcome {
        precondition(batch.mappingID == plan.id && batch.mappingVersion == plan.version, "batch prepared with another mapping")
        return try pool.transaction { c in
            var writer = BatchWriter(connection: c, rules: rules, adapter: adapter, plan: plan, observedAt: batch.observedAt)
            writer.existingSlice = existingSlice
            let outcome = try writer.store(batch, checkpoint: checkpoint, reprocess: reprocess, keepsContent: keepsContent, awaitTurn: awaitTurn)
            firstVersionUse.note(writer.firstVersionUse)
            return outcome
        }
    }
}

/// A source record's landing identity: what an adapter delivered under a key, by content.
struct LandingKey: Hashable, Sendable {
    let key: String
    let hash: [UInt8]

    /// The key and the content hash's first 8 bytes (a SHA-256: already uniform), not its 32 bytes
    /// one by one: batches put every delivery in sets several times, on the thread that a
    /// re-import waits for.
    func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        var prefix: UInt64 = 0
        for byte in hash.prefix(8) { prefix = prefix << 8 | UInt64(byte) }
        hasher.combine(prefix)
    }

    static func == (a: LandingKey, b: LandingKey) -> Bool { a.key == b.key && a.hash == b.hash }
}

/// Which deliveries landed before and need nothing more.
enum LandingLookup {
    /// Among `keys`, the (key, content) pairs that landed before (`all`), and those of them that
    /// need no new look (`settled`): accepted or skipped ones, and rejected ones unless the
    /// mapping has changed since. Landing rows are never removed, so what this finds stays true.
    static func lookup(_ keys: [(key: String, hash: [UInt8])], adapter: String, mappingVersion: Int,
                       in connection: PostgresConnection) throws -> (all: Set<LandingKey>, settled: Set<LandingKey>) {
        let rows = try connection.query("""
            SELECT source_key, content_hash, status, mapping_version FROM landing
            WHERE adapter = $1 AND source_key = ANY($2::text[])
            """, [adapter, Array(Set(keys.map(\.key)))])
        var all = Set<LandingKey>(), settled = Set<LandingKey>()
        for row in rows.rows {
            guard let hash = PostgresBytes(postgresText: row["content_hash"]!)?.bytes else { continue }
            let landed = LandingKey(key: row["source_key"]!, hash: hash)
            all.insert(landed)
            // A rejected record is worth another try once the mapping has changed.
            if row["status"] == "rejected" && Int(row["mapping_version"] ?? "") != mappingVersion { continue }
            settled.insert(landed)
        }
        return (all, settled)
    }
}

/// A batch of source records with everything worked out that needs no transaction (see
/// `RecordStore.prepare`).
public struct PreparedBatch: Sendable {
    struct Prepared: Sendable {
        let index: Int
        let record: SourceRecord
        let key: String
        let hash: [UInt8]
        let json: String
        /// Landed before with this content: unchanged, not mapped.
        var landedBefore = false
        var mapped: MappingResult?
        /// Per canonical record of `mapped`, its JSON as the first version of a new entity (nil:
        /// not prepared ahead, see `FirstVersionUse`).
        var firstVersions: [FirstVersion?] = []
    }

    let count: Int
    let mappingID: String
    let mappingVersion: Int
    let observedAt: String
    var prepared: [Prepared] = []
    var unreadable: [(index: Int, error: SourceFormatError)] = []
    /// Records with a value the database cannot hold (`ValueLimits`): rejected before mapping,
    /// stored without their content. `key` is nil when the source key itself is the problem.
    var unstorable: [(index: Int, position: String, key: String?, problems: [ValueLimits.Problem], fingerprint: [UInt8])] = []
    /// What the batch can touch, known once it is mapped (see `dependsOn`).
    public private(set) var footprint: Footprint?
    /// Entities the batch before this one writes too, when the two are written at once (see
    /// `dependsOn`): this batch merges them only once that one has committed.
    public private(set) var entitiesOfPrevious = Set<String>()

    /// A batch's deliveries (source key and content: what landing knows them by), the identity
    /// keys of its canonical records ("resource␟key"), and whether one of them has no key and may
    /// go to matching.
    public struct Footprint: Sendable {
        var deliveries = Set<LandingKey>()
        var entityKeys = Set<String>()
        var mayMatch = false
    }

    /// How many items the batch holds (records and unreadable items).
    public var itemCount: Int { count }

    /// How many of its records the look at landing found delivered before with this content.
    public var landedBeforeCount: Int { prepared.reduce(0) { $0 + ($1.landedBefore ? 1 : 0) } }

    /// Whether this batch must start writing only after `previous` committed. Two batches of one
    /// adapter may be written at once when no delivery is in both (the same source key with the
    /// same content: landing would tell the later one it is unchanged) and `previous` sends
    /// nothing to matching (its open cases would be invisible to this one until it commits). A
    /// source key with different contents in both (a key damaged the same way in many records)
    /// does not hold them back: landing rows are told apart by content. Everything else this batch does that depends on earlier batches waits for its
    /// turn inside the transaction (`RecordStore.ingest(awaitTurn:)`): the entities both write
    /// (a household split by the batch boundary), matching, counters, rejects and change events.
    /// So the store ends the same as with one batch at a time.
    public func dependsOn(_ previous: Footprint?) -> Bool {
        guard let mine = footprint, let previous, !previous.mayMatch else { return true }
        return !mine.deliveries.isDisjoint(with: previous.deliveries)
    }

    /// Prepares this batch to be written while the one before it still is: notes the entities both write.
    public mutating func follow(_ previous: Footprint) {
        entitiesOfPrevious = footprint?.entityKeys.intersection(previous.entityKeys) ?? []
    }

    init(items: [SourceReadItem], adapter: IngestSource, plan: MappingPlan, observedAt: String) {
        count = items.count
        mappingID = plan.id
        mappingVersion = plan.version
        self.observedAt = observedAt
        prepared.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            switch item {
            case .record(let record):
                let jsonBytes = SourceValue.object(record.fields).jsonBytes
                let hash = Secrets.sha256(jsonBytes)
                let json = String(decoding: jsonBytes, as: UTF8.self)
                let problems = ValueLimits.standard.problems(in: record)
                if !problems.isEmpty {
                    let keyUsable = !problems.contains { $0.field == "source key" }
                    // By position too: the same bad record twice in one batch must be two rejects (one
                    // fingerprint per statement), while a batch sent again finds its rejects open.
                    let fingerprint = Secrets.sha256(record.locator.description + "|" + Secrets.hex(hash))
                    unstorable.append((i, record.locator.description, keyUsable ? record.sourceKey : nil, problems, fingerprint))
                    continue
                }
                // Without a key in the source, the content itself identifies the record.
                let key = record.sourceKey ?? "sha256:" + Secrets.hex(hash)
                prepared.append(Prepared(index: i, record: record, key: key, hash: hash, json: json))
            case .error(let error):
                unreadable.append((i, error))
            }
        }
    }

    /// Maps every record not landed before, and prepares the first versions of the resources
    /// `prepareFirst` names (the writer makes the others if it needs them).
    mutating func map(plan: MappingPlan, adapter: IngestSource, rules: StoreRules, prepareFirst: (String) -> Bool = { _ in true }) {
        var decided: [String: Bool] = [:]
        func worthPreparing(_ resource: String) -> Bool {
            if let known = decided[resource] { return known }
            let answer = prepareFirst(resource)
            decided[resource] = answer
            return answer
        }
        var footprint = Footprint()
        defer { self.footprint = footprint }
        // Records rejected as unstorable leave only a reject, written in the batch's tail.
        for p in prepared { footprint.deliveries.insert(LandingKey(key: p.key, hash: p.hash)) }
        for i in prepared.indices where !prepared[i].landedBefore {
            var result = plan.apply(prepared[i].record)
            // An identity key is a B-tree index entry: one too long to index is this record's fault.
            for record in result.records {
                let identity = rules.identityKey(resource: record.resource, identity: record.identity)
                if let identity { footprint.entityKeys.insert(record.resource + "\u{1F}" + identity) }
                if identity == nil, rules.matchers[record.resource] != nil { footprint.mayMatch = true }
                guard let key = identity, key.utf8.count > ValueLimits.standard.maxSourceKeyBytes else { continue }
                result.issues.append(MappingIssue(locator: prepared[i].record.locator, field: record.resource, rule: ValueLimits.Rule.tooLong.rawValue,
                                                  message: "the identity key of \(record.resource) is longer than \(ValueLimits.standard.maxSourceKeyBytes) bytes",
                                                  severity: .error))
            }
            prepared[i].mapped = result
            guard !result.rejected, !result.skipped else { continue }
            let provenance = FieldProvenance(adapter: adapter.id, department: adapter.department, sourceKey: prepared[i].key,
                                             mappingID: plan.id, mappingVersion: plan.version, observedAt: observedAt)
            prepared[i].firstVersions = result.records.map { record in
                worthPreparing(record.resource) ? GoldenRecordCodec.firstVersion(record, provenance: provenance, matcher: rules.matchers[record.resource]) : nil
            }
        }
    }
}

/// A canonical record written as the first version of a new entity.
struct FirstVersion: Sendable {
    let record: String
    let provenance: String
    let sources: String
    let changed: [String]
    /// Its values and blocking keys when its resource has match rules, worked out while the
    /// batch is prepared (off the writer's thread); nil: none, or left to the writer.
    var match: MatchIndex.MatchData? = nil
}
