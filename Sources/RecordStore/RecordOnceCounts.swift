import Store

/// Record-once counters of one batch, per resource and field (a batch comes from one
/// department), added to `record_once_counts` in the batch's transaction.
struct RecordOnceTally {
    /// resource -> field -> count per `ObservationKind` (by raw value).
    private var counts: [String: [String: SIMD4<Int64>]] = [:]

    mutating func add(resource: String, field: String, kind: ObservationKind) {
        counts[resource, default: [:]][field, default: .zero][kind.rawValue] += 1
    }

    /// Counts each field once under `kind` (a new entity's fields: one resource lookup for all).
    mutating func add(resource: String, fields: [String], kind: ObservationKind) {
        guard !fields.isEmpty else { return }
        Self.count(fields.lazy.map { ($0, kind) }, into: &counts[resource, default: [:]])
    }

    /// Counts each (field, kind) pair of one resource.
    mutating func add(resource: String, kinds: [(field: String, kind: ObservationKind)]) {
        guard !kinds.isEmpty else { return }
        Self.count(kinds.lazy.map { ($0.field, $0.kind) }, into: &counts[resource, default: [:]])
    }

    private static func count(_ entries: some Sequence<(String, ObservationKind)>, into fields: inout [String: SIMD4<Int64>]) {
        for (field, kind) in entries { fields[field, default: .zero][kind.rawValue] += 1 }
    }

    /// Adds the tally to the stored counters. Rows are written in key order, so concurrent
    /// batches of one department never wait on each other's rows in a cycle.
    func write(department: String, in connection: PostgresConnection) throws {
        guard !counts.isEmpty else { return }
        let rows = counts.flatMap { resource, fields in fields.map { (resource: resource, field: $0.key, counts: $0.value) } }
            .sorted { ($0.resource, $0.field) < ($1.resource, $1.field) }
        func column(_ kind: ObservationKind) -> [Int64] { rows.map { $0.counts[kind.rawValue] } }
        try connection.execute("""
            INSERT INTO record_once_counts AS t (department, resource, field, new_fact, confirmation, authority_change, disagreement)
            SELECT $1, r, f, n, c, a, d FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
                AS u(r, f, n, c, a, d)
            ON CONFLICT (department, resource, field) DO UPDATE SET
              new_fact = t.new_fact + EXCLUDED.new_fact, confirmation = t.confirmation + EXCLUDED.confirmation,
              authority_change = t.authority_change + EXCLUDED.authority_change, disagreement = t.disagreement + EXCLUDED.disagreement
            """, [department, rows.map(\.resource), rows.map(\.field), column(.newFact), column(.confirmation),
                  column(.authorityChange), column(.disagreement)])
    }
}

/// The record-once counters of one department, resource and field.
public struct RecordOnceCount: Sendable, Equatable {
    public let department: String
    public let resource: String
    public let field: String
    public let newFact: Int64
    public let confirmation: Int64
    public let authorityChange: Int64
    public let disagreement: Int64

    /// The count of one kind.
    public func count(_ kind: ObservationKind) -> Int64 {
        switch kind {
        case .newFact: newFact
        case .confirmation: confirmation
        case .authorityChange: authorityChange
        case .disagreement: disagreement
        }
    }
}

extension RecordStore {
    /// Every counter row, by department, resource and field.
    public func recordOnceCounts() throws -> [RecordOnceCount] {
        try pool.withConnection { c in
            try c.query("""
                SELECT department, resource, field, new_fact, confirmation, authority_change, disagreement
                FROM record_once_counts ORDER BY department, resource, field
                """).rows.map { row in
                RecordOnceCount(department: try row.decode(String.self, "department"), resource: try row.decode(String.self, "resource"),
                                field: try row.decode(String.self, "field"), newFact: try row.decode(Int64.self, "new_fact"),
                                confirmation: try row.decode(Int64.self, "confirmation"),
                                authorityChange: try row.decode(Int64.self, "authority_change"),
                                disagreement: try row.decode(Int64.self, "disagreement"))
            }
        }
    }
}
