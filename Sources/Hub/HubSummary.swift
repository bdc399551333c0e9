import Foundation
import Store

/// A snapshot of what the hub holds, for `recordonce demo`'s live summary (and any operator
/// view): per adapter counters, entities per resource, open conflicts, the latest change events.
public struct HubSummary: Sendable {
    public struct AdapterLine: Sendable {
        public let id: String
        public let kind: String
        public let state: String
        public let recordsIn: Int
        public let accepted: Int
        public let rejected: Int
        public let lastError: String?
    }

    public struct EventLine: Sendable {
        public let position: Int64
        public let resource: String
        public let entityID: String
        public let operation: String
        public let changedFields: [String]
        /// Adapters whose values this change carries.
        public let fromAdapters: [String]
        /// Every adapter the entity's current fields come from.
        public let knownFrom: [String]
    }

    public let adapters: [AdapterLine]
    public let entities: [(resource: String, count: Int)]
    public let openConflicts: Int
    public let events: Int64
    public let latest: [EventLine]

    /// Reads the summary in one short read-only transaction.
    public static func read(_ pool: ConnectionPool, latest count: Int = 5) throws -> HubSummary {
        try pool.withConnection { c in
            let adapters = try c.query("""
                SELECT id, coalesce(pull_kind, 'push') AS kind, state, records_in, accepted, rejected, last_error
                FROM adapters ORDER BY id
                """).rows.map { row in
                AdapterLine(id: row["id"] ?? "", kind: row["kind"] ?? "", state: row["state"] ?? "",
                            recordsIn: Int(row["records_in"] ?? "") ?? 0, accepted: Int(row["accepted"] ?? "") ?? 0,
                            rejected: Int(row["rejected"] ?? "") ?? 0, lastError: row["last_error"])
            }
            let entities = try c.query("SELECT resource, count(*) AS n FROM entities GROUP BY resource ORDER BY resource").rows.map {
                (resource: $0["resource"] ?? "", count: Int($0["n"] ?? "") ?? 0)
            }
            let conflicts = Int(try c.query("SELECT count(*) AS n FROM conflicts WHERE status = 'open'").first?["n"] ?? "") ?? 0
            let head = try ChangeLog.head(c)
            // The latest events, and the latest updates among the last thousand: an update is where
            // record once shows (a death from civil affairs on a person known from police and health).
            let window = try ChangeLog.read(after: max(0, head - 1_000), limit: 1_000, from: c)
            let updates = window.filter { $0.operation == "updated" }.suffix(count)
            let recent = window.suffix(count).filter { event in !updates.contains { $0.position == event.position } }
            var lines: [EventLine] = []
            for event in (Array(recent) + Array(updates)).sorted(by: { $0.position > $1.position }) {
                let provenance = try c.query("SELECT provenance::text AS p FROM entities WHERE id::text = $1", [event.entityID]).first?["p"]
                lines.append(EventLine(position: event.position, resource: event.resource, entityID: event.entityID,
                                       operation: event.operation, changedFields: event.changedFields,
                                       fromAdapters: adapterNames(in: event.sources),
                                       knownFrom: provenance.map { adapterNames(in: $0, under: "sources") } ?? []))
            }
            return HubSummary(adapters: adapters, entities: entities, openConflicts: conflicts, events: head, latest: lines)
        }
    }

    /// The distinct `adapter` values of a JSON array of source objects (or of `key` holding one).
    static func adapterNames(in json: String, under key: String? = nil) -> [String] {
        guard var value = try? JSONSerialization.jsonObject(with: Data(json.utf8)) else { return [] }
        if let key, let object = value as? [String: Any], let inner = object[key] { value = inner }
        var names: [String] = []
        for source in value as? [[String: Any]] ?? [] {
            if let name = source["adapter"] as? String, !names.contains(name) { names.append(name) }
        }
        return names
    }
}
