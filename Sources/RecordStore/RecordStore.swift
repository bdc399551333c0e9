import Adapters
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

    public init(pool: ConnectionPool, rules: StoreRules) {
        self.pool = pool
        self.rules = rules
    }

    /// Stores one batch from `adapter` read with `plan`. `checkpoint` (pull adapters) is saved in
    /// the same transaction. With `reprocess`, landing is not consulted (retrying rejects).
    public func ingest(_ items: [SourceReadItem], adapter: AdapterDeclaration, plan: MappingPlan,
                       checkpoint: String? = nil, reprocess: Bool = false, now: Date = Date()) throws -> BatchOutcome {
        let batch = BatchPreparation(items: items)
        return try pool.transaction { c in
            var writer = BatchWriter(connection: c, rules: rules, adapter: adapter, plan: plan,
                                     observedAt: Timestamp.iso8601(now))
            return try writer.store(batch, checkpoint: checkpoint, reprocess: reprocess)
        }
    }
}

/// Per-record work that needs no database: content hashes, source keys, JSON of the raw record.
struct BatchPreparation {
    struct Prepared {
        let index: Int
        let record: SourceRecord
        let key: String
        let hash: [UInt8]
        let json: String
    }

    let count: Int
    var prepared: [Prepared] = []
    var unreadable: [(index: Int, error: SourceFormatError)] = []

    init(items: [SourceReadItem]) {
        count = items.count
        prepared.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            switch item {
            case .record(let record):
                let json = SourceValue.object(record.fields).jsonText
                let hash = Secrets.sha256(Array(json.utf8))
                // Without a key in the source, the content itself identifies the record.
                let key = record.sourceKey ?? "sha256:" + Secrets.hex(hash)
                prepared.append(Prepared(index: i, record: record, key: key, hash: hash, json: json))
            case .error(let error):
                unreadable.append((i, error))
            }
        }
    }
}
