import Catalog
import Foundation
import JSON5
import Mapping
import Secrets
import SourceFormats
import Store

/// Writes one prepared batch inside an open transaction (see `RecordStore` for the steps).
struct BatchWriter {
    let connection: PostgresConnection
    let rules: StoreRules
    let adapter: IngestSource
    let plan: MappingPlan
    let observedAt: String
    /// How many existing entities survivorship holds at once (see `keyedMerge`).
    var existingSlice = RecordStore.defaultExistingSlice

    private var outcomes: [RecordOutcome?] = []
    private var landing: [LandingKey: String] = [:]
    private var landingOrder: [LandingKey] = []
    /// Landing rows that already exist (updated in place; the rest are new and sent with COPY).
    private var landedBefore = Set<LandingKey>()
    /// Landing rows this writer wrote first thing (`claimFresh`), with the status they will get.
    private var claimed = Set<LandingKey>()
    private var rejects: [(key: String?, position: String, issues: String, record: String?, fingerprint: [UInt8])] = []
    /// Entities given a new version by this writer, with their record (for the blocking-key index).
    private var written: [(id: String, resource: String, record: String, match: MatchIndex.MatchData?)] = []
    /// Per entry of `written`, its values and blocking keys (nil: its resource has no match
    /// rules), worked out once for the index and for open cases alike.
    private var writtenMatch: [MatchIndex.MatchData?] = []
    /// How many entries of `written` have their blocking keys in match_keys.
    private var keyedCount = 0
    /// Entities this writer created whose blocking keys are not written yet: they have none to delete.
    private var createdUnkeyed = Set<String>()
    /// Record-once counters per department, written with the batch's tail (`writeTallies`).
    private var tallies: [String: RecordOnceTally] = [:]
    /// Per resource, the records merged and the entities they created from one record (where a
    /// first version prepared ahead is used), for `FirstVersionUse`.
    private(set) var firstVersionUse: [String: (records: Int, firsts: Int)] = [:]

    init(connection: PostgresConnection, rules: StoreRules, adapter: IngestSource, plan: MappingPlan, observedAt: String) {
        self.connection = connection
        self.rules = rules
        self.adapter = adapter
        self.plan = plan
        self.observedAt = observedAt
    }

    /// An observation bound for one entity, with the outcome index of the record it came from.
    private struct Bound {
        let index: Int
        let record: CanonicalRecord
        let provenance: FieldProvenance
        /// The record's JSON as a first version, made when the batch was prepared.
        let first: FirstVersion?
    }

    /// `keepsContent`: the accepted records' source content is kept for a later replay
    /// (`landing_batches`), in this transaction so that a crash cannot keep the golden records and
    /// lose the content they came from. A replay itself stores nothing again.
    ///
    /// The work comes in two parts. The head (landing, mapping, entities, matching, landing rows)
    /// touches only rows of this batch's source keys and entities. The tail writes the rows that
    /// every batch shares or numbers (counters, rejects, kept content, checkpoint, change log).
    /// `awaitTurn` is called before anything that must see the batches before this one committed:
    /// before the tail, and before matching (which reads other entities and open cases). An
    /// import that writes two independent batches at once (`IngestService.importFile`) waits
    /// there for the previous batch's commit; alone, it returns at once.
    mutating func store(_ batch: PreparedBatch, checkpoint: String?, reprocess: Bool, keepsContent: Bool,
                        awaitTurn: () throws -> Void = {}) throws -> BatchOutcome {
        outcomes = Array(repeating: nil, count: batch.count)
        for (index, error) in batch.unreadable {
            let problem = RecordOutcome.Problem(field: "record", rule: error.kind.rawValue, message: error.message, severity: "error")
            outcomes[index] = RecordOutcome(position: error.locator.description, sourceKey: nil, status: .rejected, problems: [problem], entities: [])
            rejects.append((nil, error.locator.description, Self.issuesJSON([problem]), nil,
                            Secrets.sha256(error.locator.description + "|" + error.kind.rawValue + "|" + error.message)))
        }

        // Values the database cannot hold: a reject without its content (it could not be stored either).
        for u in batch.unstorable {
            let problems = u.problems.map { RecordOutcome.Problem(field: $0.field, rule: $0.rule.rawValue, message: $0.message, severity: "error") }
            outcomes[u.index] = RecordOutcome(position: u.position, sourceKey: u.key, status: .rejected, problems: problems, entities: [])
            rejects.append((u.key, u.position, Self.issuesJSON(problems), nil, u.fingerprint))
        }

        // 1. Landing: skip what this adapter delivered before, unchanged.
        let toMap = reprocess ? batch.prepared : try changedRecords(batch.prepared)

        // 2. Mapping.
        var bound: [String: [Bound]] = [:]   // "resource\u{1F}key" -> observations
        var entityOrder: [(resource: String, key: String)] = []
        var keyless: [Keyless] = []
        for p in toMap {
            let result = p.mapped ?? plan.apply(p.record)
            let problems = result.issues.map {
                RecordOutcome.Problem(field: $0.field, rule: $0.rule, message: $0.message, severity: $0.severity.rawValue)
            }
            let position = p.record.locator.description
            if result.skipped {
                assert(landingStatus(result) == "skipped")
                outcomes[p.index] = RecordOutcome(position: position, sourceKey: p.key, status: .skipped, problems: [], entities: [])
                land(p, status: "skipped")
                continue
            }
            var identityProblems: [RecordOutcome.Problem] = []
            var keyed: [(String, String, CanonicalRecord)] = []
            for record in result.records {
                guard let key = rules.identityKey(resource: record.resource, identity: record.identity) else {
                    if plan.matchSettings(resource: record.resource) != nil, rules.matchers[record.resource] != nil {
                        keyless.append(Keyless(index: p.index, record: record, key: p.key, position: position))
                        continue
                    }
                    identityProblems.append(RecordOutcome.Problem(field: record.resource, rule: "identity.missing",
                                                                  message: "the identity key of \(record.resource) is incomplete", severity: "error"))
                    continue
                }
                keyed.append((record.resource, key, record))
            }
            if result.rejected || !identityProblems.isEmpty {
                assert(landingStatus(result) == "rejected")
                let all = problems + identityProblems
                outcomes[p.index] = RecordOutcome(position: position, sourceKey: p.key, status: .rejected, problems: all, entities: [])
                rejects.append((p.key, position, Self.issuesJSON(all), p.json, p.hash))
                land(p, status: "rejected")
                continue
            }
            let provenance = FieldProvenance(adapter: adapter.id, department: adapter.department, sourceKey: p.key,
                                             mappingID: plan.id, mappingVersion: plan.version, observedAt: observedAt)
            for (i, (resource, key, record)) in keyed.enumerated() {
                let id = resource + "\u{1F}" + key
                if bound[id] == nil { entityOrder.append((resource, key)) }
                // keyed holds every canonical record (an incomplete identity rejects the record above).
                let first = p.firstVersions.count == keyed.count ? p.firstVersions[i] : nil
                bound[id, default: []].append(Bound(index: p.index, record: record, provenance: provenance, first: first))
            }
            assert(landingStatus(result) == "accepted")
            outcomes[p.index] = RecordOutcome(position: position, sourceKey: p.key, status: .accepted, problems: problems, entities: [])
            land(p, status: "accepted")
        }

        // 3-4. Identity resolution and survivorship; then matching of records without a usable
        // key (against entities as this batch left them), and open cases a clean key now settles.
        var result = BatchOutcome()
        var events = try mergeKeyed(bound: bound, order: entityOrder, laterEntities: batch.entitiesOfPrevious,
                                    into: &result, awaitTurn: awaitTurn)
        try refreshMatchKeys()
        if !keyless.isEmpty {
            try awaitTurn()
            events += try match(keyless, into: &result)
        }
        events += try linkOpenCases(into: &result, awaitTurn: awaitTurn)
        try closeCasesOfRedeliveredRecords(keyless: Set(keyless.map(\.index)))
        try writeLanding()

        // 5. The tail: counters, rejects, kept content, checkpoint, then the change log.
        try awaitTurn()
        try writeTallies()
        try writeRejects()
        if keepsContent { try keepContent(batch) }
        if let checkpoint {
            try connection.execute("""
                INSERT INTO adapter_checkpoints (adapter, checkpoint) VALUES ($1, $2)
                ON CONFLICT (adapter) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()
                """, [adapter.id, checkpoint])
        }
        result.lastPosition = try ChangeLog.append(events, in: connection)
        result.events = events.count
        result.records = outcomes.map { $0! }
        return result
    }

    // MARK: landing

    private mutating func changedRecords(_ prepared: [PreparedBatch.Prepared]) throws -> [PreparedBatch.Prepared] {
        let candidates = prepared.filter { !$0.landedBefore }
        for p in prepared where p.landedBefore {
            outcomes[p.index] = RecordOutcome(position: p.record.locator.description, sourceKey: p.key, status: .unchanged, problems: [], entities: [])
        }
        guard !candidates.isEmpty else { return [] }
        if try claimFresh(candidates) { return candidates }
        // Looked at again inside the transaction: another writer may have landed some since.
        let landing = try LandingLookup.lookup(candidates.map { ($0.key, $0.hash) }, adapter: adapter.id,
                                               mappingVersion: plan.version, in: connection)
        landedBefore = landing.all
        var repeated = landing.settled
        var changed: [PreparedBatch.Prepared] = []
        for p in candidates {
            // Seen before (or earlier in this batch) with this very content: nothing to do.
            if !repeated.insert(LandingKey(key: p.key, hash: p.hash)).inserted {
                outcomes[p.index] = RecordOutcome(position: p.record.locator.description, sourceKey: p.key, status: .unchanged, problems: [], entities: [])
            } else {
                changed.append(p)
            }
        }
        return changed
    }

    /// Writes the landing rows of deliveries that the look-ahead did not find, before anything
    /// else, as a cheaper way to learn that none of them landed before: the rows go in (one
    /// COPY, which the batch writes anyway), or one of them is there already (a unique violation,
    /// undone to a savepoint) and the batch looks them up as usual. A first load thus skips a
    /// lookup of every key in the transaction (2,000 index probes; 18% of PostgreSQL's time).
    /// Each row gets the status the mapping below gives its record (`landingStatus`); false when
    /// the rows were not written (a delivery twice in the batch, a record not mapped yet, or one
    /// that landed before).
    private mutating func claimFresh(_ candidates: [PreparedBatch.Prepared]) throws -> Bool {
        var rows: [(LandingKey, String)] = []
        var seen = Set<LandingKey>()
        rows.reserveCapacity(candidates.count)
        for p in candidates {
            let id = LandingKey(key: p.key, hash: p.hash)
            guard let mapped = p.mapped, seen.insert(id).inserted else { return false }
            rows.append((id, landingStatus(mapped)))
        }
        do {
            try connection.transaction { c in
                try c.copyIn("COPY landing (adapter, source_key, content_hash, status, mapping_version) FROM STDIN") { w in
                    let version = String(plan.version)
                    for (id, status) in rows {
                        try w.appendRow([adapter.id, id.key, PostgresBytes(id.hash).postgresText, status, version])
                    }
                }
            }
        } catch let error as PostgresError where error.sqlState == "23505" {
            return false
        }
        claimed = seen
        return true
    }

    /// The landing status the mapping step gives a record with this mapping result.
    private func landingStatus(_ result: MappingResult) -> String {
        if result.skipped { return "skipped" }
        if result.rejected { return "rejected" }
        for record in result.records where rules.identityKey(resource: record.resource, identity: record.identity) == nil {
            // Without a usable key: matched if its output has match rules, else rejected.
            guard plan.matchSettings(resource: record.resource) != nil, rules.matchers[record.resource] != nil else { return "rejected" }
        }
        return "accepted"
    }

    private mutating func land(_ p: PreparedBatch.Prepared, status: String) {
        let id = LandingKey(key: p.key, hash: p.hash)
        if landing[id] == nil { landingOrder.append(id) }
        landing[id] = status
    }

    /// One `landing_batches` row with the batch's accepted records as NDJSON lines
    /// `{"key": source key or null, "record": {...}}`, the form a replay reads back.
    private func keepContent(_ batch: PreparedBatch) throws {
        var lines = ""
        var count = 0
        for p in batch.prepared where outcomes[p.index]?.status == .accepted {
            if count > 0 { lines += "\n" }
            lines += "{\"key\":"
            if let key = p.record.sourceKey { JSONStringEscaper.append(key, to: &lines) } else { lines += "null" }
            lines += ",\"record\":" + p.json + "}"
            count += 1
        }
        guard count > 0 else { return }
        try connection.execute("INSERT INTO landing_batches (adapter, mapping_version, records, content) VALUES ($1, $2, $3, $4)",
                               [adapter.id, plan.version, count, lines])
    }

    private func writeLanding() throws {
        let order = landingOrder.filter { !claimed.contains($0) }
        guard !order.isEmpty else { return }
        let fresh = order.filter { !landedBefore.contains($0) }
        let known = order.filter { landedBefore.contains($0) }
        do {
            if !fresh.isEmpty {
                try connection.transaction { c in
                    try c.copyIn("COPY landing (adapter, source_key, content_hash, status, mapping_version) FROM STDIN") { w in
                        let version = String(plan.version)
                        for id in fresh {
                            try w.appendRow([adapter.id, id.key, PostgresBytes(id.hash).postgresText, landing[id]!, version])
                        }
                    }
                }
            }
            try upsertLanding(known)
        } catch let error as PostgresError where error.sqlState == "23505" {
            // A concurrent delivery landed some of the same content first.
            try upsertLanding(order)
        }
    }

    private func upsertLanding(_ keys: [LandingKey]) throws {
        guard !keys.isEmpty else { return }
        try connection.execute("""
            INSERT INTO landing (adapter, source_key, content_hash, status, mapping_version)
            SELECT $1, k, h, s, $5 FROM unnest($2::text[], $3::bytea[], $4::text[]) AS u(k, h, s)
            ON CONFLICT (adapter, source_key, content_hash) DO UPDATE
              SET status = EXCLUDED.status, mapping_version = EXCLUDED.mapping_version, last_changed = now()
            """, [adapter.id, keys.map(\.key), keys.map { PostgresBytes($0.hash) }, keys.map { landing[$0]! }, plan.version])
    }

    private func writeRejects() throws {
        guard !rejects.isEmpty else { return }
        try connection.execute("""
            INSERT INTO rejects (adapter, source_key, position, issues, record, fingerprint)
            SELECT $1, k, p, i::jsonb, r::jsonb, f FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) AS u(k, p, i, r, f)
            ON CONFLICT (adapter, fingerprint) WHERE status = 'open' DO UPDATE
              SET position = EXCLUDED.position, issues = EXCLUDED.issues, created_at = now()
            """, [adapter.id, rejects.map(\.key), rejects.map(\.position), rejects.map(\.issues), rejects.map(\.record),
                  rejects.map { PostgresBytes($0.fingerprint) }])
    }

    // MARK: entities

    /// A golden record after merging this batch's observations into it.
    private struct Merged {
        let resource: String
        let key: String
        let previousVersion: Int
        let changed: [String]
        let record: String
        let provenance: String
        /// The change event's sources: each source of a changed value with the fields it gave.
        let sources: String
        /// A first version's match data, when it was worked out with the batch.
        var match: MatchIndex.MatchData? = nil
        /// What each observation was, for the record-once counters.
        var kinds: [(field: String, kind: ObservationKind)] = []
        /// A first version from one record: each of its fields is a new fact.
        var newFacts: [String] = []
    }

    /// Survivorship's answer for one existing entity: the new version (nil when nothing changed)
    /// and what the conflicts and counters need to know.
    private struct Outcome {
        var merged: Merged?
        var kinds: [(field: String, kind: ObservationKind)]
        var retired: [String]
        /// The golden fields after the batch.
        var fields: [String: GoldenField]
        /// Per field, the last value this batch's adapter sent.
        var sent: [String: String]
    }

    /// The batch's keyed entities, merged. Those in `later` (the batch before this one writes them
    /// too) are merged only after `awaitTurn`, when that batch has committed; the events come in
    /// the key order of one merge of them all.
    private mutating func mergeKeyed(bound: [String: [Bound]], order: [(resource: String, key: String)], laterEntities later: Set<String>,
                                     into result: inout BatchOutcome, awaitTurn: () throws -> Void) throws -> [NewChangeEvent] {
        guard !later.isEmpty else { return try merge(bound: bound, order: order, into: &result) }
        var first: [(resource: String, key: String)] = [], second: [(resource: String, key: String)] = []
        for entity in order {
            if later.contains(entity.resource + "\u{1F}" + entity.key) { second.append(entity) } else { first.append(entity) }
        }
        var events = try keyedMerge(bound: bound, order: first, into: &result)
        try awaitTurn()
        result.entitiesAfterPrevious += second.count
        events += try keyedMerge(bound: bound, order: second, into: &result)
        return events.sorted { ($0.resource, $0.key) < ($1.resource, $1.key) }.map(\.event)
    }

    private mutating func merge(bound: [String: [Bound]], order: [(resource: String, key: String)],
                                into result: inout BatchOutcome, source: (id: String, department: String)? = nil) throws -> [NewChangeEvent] {
        try keyedMerge(bound: bound, order: order, into: &result, source: source).map(\.event)
    }

    /// Survivorship for these entities (locked, or created), with their change events in key order.
    private mutating func keyedMerge(bound: [String: [Bound]], order: [(resource: String, key: String)], into result: inout BatchOutcome,
                                     source: (id: String, department: String)? = nil) throws
        -> [(resource: String, key: String, event: NewChangeEvent)] {
        guard !order.isEmpty else { return [] }
        let acting = source ?? (adapter.id, adapter.department)
        // Lock in one global order so that concurrent batches never wait on each other in a cycle.
        let sorted = order.sorted { ($0.resource, $0.key) < ($1.resource, $1.key) }
        var existing = try lockExisting(sorted)
        let found = Set(existing.map { $0.resource + "\u{1F}" + $0.key })
        let missing = sorted.filter { !found.contains($0.resource + "\u{1F}" + $0.key) }
        for entity in sorted {
            let id = entity.resource + "\u{1F}" + entity.key
            let observations = bound[id]?.count ?? 0
            let startsOne = observations == 1 && !found.contains(id)
            firstVersionUse[entity.resource, default: (0, 0)].records += observations
            if startsOne { firstVersionUse[entity.resource, default: (0, 0)].firsts += 1 }
        }

        var writes: [(id: String, merged: Merged)] = []
        var conflicts: [(entity: String, resource: String, conflict: FieldConflict)] = []
        var tally = tallies[acting.department] ?? RecordOnceTally()
        defer { tallies[acting.department] = tally }

        // New entities: written once, with their whole first version. Several records of one new
        // entity in the batch can disagree already: their conflicts open once it has an id.
        if !missing.isEmpty {
            var early: [String: [FieldConflict]] = [:]
            let fresh = missing.compactMap { m in
                outcome(resource: m.resource, key: m.key, version: 0, current: [:], bound: bound,
                        conflicts: { early[m.resource + "\u{1F}" + m.key, default: []].append($0) }).merged
            }
            let (created, raced) = try insertNew(fresh)
            writes += created
            for (id, m) in created {
                tally.add(resource: m.resource, kinds: m.kinds)
                tally.add(resource: m.resource, fields: m.newFacts, kind: .newFact)
                for c in early[m.resource + "\u{1F}" + m.key] ?? [] { conflicts.append((id, m.resource, c)) }
            }
            // Another batch created some of them meanwhile: merge into theirs like any existing entity.
            if !raced.isEmpty { existing += try lockExisting(raced) }
        }

        result.conflicts += try open(conflicts)

        // Existing entities, a slice at a time (in key order, all locked above): what survivorship
        // needs of an entity (its decoded fields, its outcome) is about 16 kB, and a batch of
        // updates would otherwise hold it for every entity at once.
        var updates: [(id: String, merged: Merged)] = []
        var start = 0
        while start < existing.count {
            let slice = existing[start..<(start + min(existingSlice, existing.count - start))]
            start += slice.count
            updates += try mergeExisting(slice, bound: bound, adapterID: acting.id, tally: &tally, result: &result)
        }
        let all = writes + updates
        for w in all { note(entity: w.id, resource: w.merged.resource, key: w.merged.key, bound: bound) }
        result.versionsWritten += all.count
        written += all.map { ($0.id, $0.merged.resource, $0.merged.record, $0.merged.match) }
        createdUnkeyed.formUnion(writes.map(\.id))
        // Events in the batch's key order, the same order however the batch raced.
        return all.sorted { ($0.merged.resource, $0.merged.key) < ($1.merged.resource, $1.merged.key) }.map { id, m in
            (m.resource, m.key, NewChangeEvent(resource: m.resource, entityID: id, version: m.previousVersion + 1,
                                               operation: m.previousVersion == 0 ? .created : .updated, changedFields: m.changed,
                                               record: nil, sources: m.sources))
        }
    }

    /// Survivorship for existing, locked entities: their new versions written (the superseded
    /// ones moved to entity_versions), retired overrides removed, conflicts opened and closed.
    /// Returns the entities that got a new version (noted by the caller; those without one are noted here).
    private mutating func mergeExisting(_ rows: ArraySlice<ExistingEntity>, bound: [String: [Bound]], adapterID: String,
                                        tally: inout RecordOnceTally, result: inout BatchOutcome) throws -> [(id: String, merged: Merged)] {
        var current: [String: [String: GoldenField]] = [:]
        for row in rows { current[row.id] = try GoldenRecordCodec.decode(record: row.record, provenance: row.provenance) }
        let guards = try overrideGuards(current.filter { $0.value.values.contains { $0.provenance.steward != nil } }.map(\.key))

        var conflicts: [(entity: String, resource: String, conflict: FieldConflict)] = []
        var updates: [(id: String, merged: Merged)] = []
        var outcomes: [String: Outcome] = [:]
        for row in rows {
            let o = outcome(resource: row.resource, key: row.key, version: row.version, current: current[row.id]!, bound: bound,
                            overrides: guards[row.id] ?? [:], conflicts: { conflicts.append((row.id, row.resource, $0)) })
            tally.add(resource: row.resource, kinds: o.kinds)
            outcomes[row.id] = o
            if let m = o.merged { updates.append((row.id, m)) } else { note(entity: row.id, resource: row.resource, key: row.key, bound: bound) }
        }

        if !updates.isEmpty {
            // The version being superseded moves to entity_versions, inside PostgreSQL.
            let ids = updates.map(\.id)
            try connection.execute("""
                INSERT INTO entity_versions (entity_id, version, record, provenance, created_at)
                SELECT id, version, record, provenance, updated_at FROM entities WHERE id = ANY($1::uuid[])
                """, [ids])
            try connection.execute("""
                UPDATE entities e SET version = u.v, record = u.r::jsonb, provenance = u.p::json, updated_at = now()
                FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS u(id, v, r, p) WHERE e.id = u.id
                """, [ids, updates.map { $0.merged.previousVersion + 1 }, updates.map(\.merged.record),
                      updates.map(\.merged.provenance)])
        }
        let retired = outcomes.flatMap { id, o in o.retired.map { (id, $0) } }
        if !retired.isEmpty {
            try connection.execute("""
                DELETE FROM field_overrides o USING unnest($1::uuid[], $2::text[]) AS u(e, f) WHERE o.entity_id = u.e AND o.field = u.f
                """, [retired.map(\.0), retired.map(\.1)])
        }
        result.conflicts += try open(conflicts)
        try supersede(outcomes, disputed: Set(conflicts.map { $0.entity + "\u{1F}" + $0.conflict.field }), adapterID: adapterID)
        return updates
    }

    /// Opens these conflicts: one per entity, field and challenger (the last disagreement), less
    /// those settled before for the same pair of values. Returns how many were opened or updated.
    private func open(_ conflicts: [(entity: String, resource: String, conflict: FieldConflict)]) throws -> Int {
        guard !conflicts.isEmpty else { return 0 }
        var last: [String: Int] = [:]
        for (i, c) in conflicts.enumerated() { last[c.entity + "\u{1F}" + c.conflict.field + "\u{1F}" + c.conflict.challenger.provenance.adapter] = i }
        let distinct = conflicts.indices.filter { last.values.contains($0) }.map { conflicts[$0] }
        let opened = try notSettledBefore(distinct)
        guard !opened.isEmpty else { return 0 }
        try connection.execute("""
            INSERT INTO conflicts (entity_id, resource, field, golden, challenger, challenger_adapter)
            SELECT e, r, f, g::jsonb, c::jsonb, a FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(e, r, f, g, c, a)
            ON CONFLICT (entity_id, field, challenger_adapter) WHERE status = 'open' DO UPDATE
              SET golden = EXCLUDED.golden, challenger = EXCLUDED.challenger, updated_at = now()
            """, [opened.map(\.entity), opened.map(\.resource), opened.map(\.conflict.field),
                  opened.map { GoldenRecordCodec.conflictSide($0.conflict.golden) },
                  opened.map { GoldenRecordCodec.conflictSide($0.conflict.challenger) },
                  opened.map(\.conflict.challenger.provenance.adapter)])
        return opened.count
    }

    /// Adds the counters of every merge so far to `record_once_counts`, departments in order.
    private mutating func writeTallies() throws {
        for department in tallies.keys.sorted() { try tallies[department]!.write(department: department, in: connection) }
        tallies.removeAll()
    }

    /// The overrides in force on these entities: per entity, per field, who may retire them.
    private func overrideGuards(_ ids: [String]) throws -> [String: [String: OverrideGuard]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [String: OverrideGuard]] = [:]
        for row in try connection.query("""
            SELECT entity_id, field, authority_department, authority_value::text AS authority_value
            FROM field_overrides WHERE entity_id = ANY($1::uuid[])
            """, [ids]).rows {
            out[row["entity_id"]!, default: [:]][row["field"]!] =
                OverrideGuard(authorityDepartment: row["authority_department"], authorityValue: try row["authority_value"].map(Self.literal))
        }
        return out
    }

    /// The conflicts to open, less those an admin already settled (or that went away) for the
    /// same pair of values: a closed conflict is never reopened by the same disagreement.
    private func notSettledBefore(_ found: [(entity: String, resource: String, conflict: FieldConflict)]) throws
        -> [(entity: String, resource: String, conflict: FieldConflict)] {
        let closed = try connection.query("""
            SELECT entity_id, field, challenger_adapter, (golden -> 'value')::text AS golden, (challenger -> 'value')::text AS challenger,
                   decided_value::text AS decided
            FROM conflicts c JOIN unnest($1::uuid[], $2::text[]) AS u(e, f) ON c.entity_id = u.e AND c.field = u.f
            WHERE c.status <> 'open'
            """, [found.map(\.entity), found.map(\.conflict.field)])
        var settled = Set<String>()
        for row in closed.rows {
            let base = row["entity_id"]! + "\u{1F}" + row["field"]! + "\u{1F}" + row["challenger_adapter"]! + "\u{1F}" + (try Self.literal(row["challenger"]!))
            settled.insert(base + "\u{1F}" + (try Self.literal(row["golden"]!)))
            if let decided = row["decided"] { settled.insert(base + "\u{1F}" + (try Self.literal(decided))) }
        }
        guard !settled.isEmpty else { return found }
        return found.filter { f in
            !settled.contains([f.entity, f.conflict.field, f.conflict.challenger.provenance.adapter, f.conflict.challenger.value,
                               f.conflict.golden.value].joined(separator: "\u{1F}"))
        }
    }

    /// Closes open conflicts of these entities whose disagreement went away: the golden value is
    /// now the challenger's, or the challenger (this batch's adapter) now sends the golden value.
    private func supersede(_ outcomes: [String: Outcome], disputed: Set<String>, adapterID: String) throws {
        guard !outcomes.isEmpty else { return }
        let open = try connection.query("""
            SELECT id, entity_id, field, challenger_adapter, (challenger -> 'value')::text AS challenger
            FROM conflicts WHERE status = 'open' AND entity_id = ANY($1::uuid[])
            """, [Array(outcomes.keys)])
        var ids: [Int64] = []
        for row in open.rows {
            guard let o = outcomes[row["entity_id"]!], let field = row["field"], let golden = o.fields[field]?.value else { continue }
            let challenger = try Self.literal(row["challenger"]!)
            let agrees = row["challenger_adapter"] == adapterID && o.sent[field] == golden
                && !disputed.contains(row["entity_id"]! + "\u{1F}" + field)
            if golden == challenger || agrees { ids.append(try row.decode(Int64.self, "id")) }
        }
        guard !ids.isEmpty else { return }
        try connection.execute("UPDATE conflicts SET status = 'superseded', updated_at = now() WHERE id = ANY($1::bigint[])", [ids])
    }

    /// A stored JSON value in the form values are compared in.
    static func literal(_ text: String) throws -> String { try JSON5.parseJSON(text).jsonText() }

    /// Inserts entities that did not exist when the batch locked its keys. The fast way is COPY
    /// with ids made here; when a concurrent batch created one of the keys first (a unique
    /// violation), the COPY is undone and an INSERT ... ON CONFLICT DO NOTHING sorts out which
    /// keys are ours and which raced.
    private func insertNew(_ fresh: [Merged]) throws -> (created: [(id: String, merged: Merged)], raced: [(resource: String, key: String)]) {
        guard !fresh.isEmpty else { return ([], []) }
        let now = Date()
        let created = fresh.map { (id: EntityID.make(at: now), merged: $0) }
        do {
            try connection.transaction { c in
                try c.copyIn("COPY entities (id, resource, identity_key, version, record, provenance) FROM STDIN") { w in
                    for (id, m) in created {
                        try w.appendRow([id, m.resource, m.key, "1", m.record, m.provenance])
                    }
                }
            }
            return (created, [])
        } catch let error as PostgresError where error.sqlState == "23505" {
            let inserted = try connection.query("""
                INSERT INTO entities (id, resource, identity_key, version, record, provenance)
                SELECT i, r, k, 1, rec::jsonb, p::json
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(i, r, k, rec, p)
                ON CONFLICT (resource, identity_key) DO NOTHING
                RETURNING id
                """, [created.map(\.id), fresh.map(\.resource), fresh.map(\.key), fresh.map(\.record), fresh.map(\.provenance)])
            let ours = Set(inserted.rows.compactMap { $0["id"] })
            return (created.filter { ours.contains($0.id) },
                    created.filter { !ours.contains($0.id) }.map { ($0.merged.resource, $0.merged.key) })
        }
    }

    /// An existing entity as locked by `lockExisting`.
    typealias ExistingEntity = (id: String, resource: String, key: String, version: Int, record: String, provenance: String)

    /// Existing entities with these keys, locked, in key order.
    private func lockExisting(_ keys: [(resource: String, key: String)]) throws -> [ExistingEntity] {
        try connection.query("""
            SELECT e.id, e.resource, e.identity_key, e.version, e.record::text AS record, e.provenance::text AS provenance
            FROM entities e JOIN unnest($1::text[], $2::text[]) AS u(r, k) ON e.resource = u.r AND e.identity_key = u.k
            ORDER BY e.resource, e.identity_key
            FOR UPDATE OF e
            """, [keys.map(\.resource), keys.map(\.key)]).rows.map { row in
            (row["id"]!, row["resource"]!, row["identity_key"]!, Int(row["version"]!) ?? 0, row["record"]!, row["provenance"]!)
        }
    }

    /// Survivorship over every observation of one entity (its merged version is nil when nothing changed).
    private func outcome(resource: String, key: String, version: Int, current: [String: GoldenField], bound: [String: [Bound]],
                         overrides: [String: OverrideGuard] = [:], conflicts: (FieldConflict) -> Void = { _ in }) -> Outcome {
        guard let observations = bound[resource + "\u{1F}" + key], let spec = rules.resources[resource] else {
            return Outcome(merged: nil, kinds: [], retired: [], fields: current, sent: [:])
        }
        if current.isEmpty, observations.count == 1, !observations[0].record.fields.isEmpty {
            let first = observations[0].first ?? GoldenRecordCodec.firstVersion(observations[0].record, provenance: observations[0].provenance,
                                                                                 matcher: rules.matchers[resource])
            let merged = Merged(resource: resource, key: key, previousVersion: version, changed: first.changed,
                                record: first.record, provenance: first.provenance, sources: first.sources, match: first.match,
                                newFacts: first.changed)
            return Outcome(merged: merged, kinds: [], retired: [], fields: [:], sent: [:])
        }
        var seen: [Observation] = []
        var sent: [String: String] = [:]
        for b in observations {
            for field in b.record.fields {
                let value = GoldenRecordCodec.literal(field.value)
                seen.append(Observation(field: field.name, value: value, provenance: b.provenance))
                sent[field.name] = value
            }
        }
        let outcome = Survivorship(authorities: spec.authorities).merge(current, seen, overrides: overrides)
        outcome.conflicts.forEach(conflicts)
        var kinds: [(field: String, kind: ObservationKind)] = []
        for (i, kind) in outcome.kinds.enumerated() { if let kind { kinds.append((seen[i].field, kind)) } }
        guard !outcome.changedFields.isEmpty else {
            return Outcome(merged: nil, kinds: kinds, retired: [], fields: outcome.fields, sent: sent)
        }
        var sources = GoldenRecordCodec.sourcesJSON(outcome.fields, changed: outcome.changedFields)
        if !outcome.retired.isEmpty {
            // The event says why a field left its override (no "fields" member: not a source).
            var why = "{\"override_retired\":["
            for (i, name) in outcome.retired.enumerated() {
                if i > 0 { why += "," }
                JSONStringEscaper.append(name, to: &why)
            }
            why += "],\"why\":\"the field's authoritative department sent new information\"}"
            sources = String(sources.dropLast()) + (sources == "[]" ? "" : ",") + why + "]"
        }
        let merged = Merged(resource: resource, key: key, previousVersion: version, changed: outcome.changedFields,
                            record: GoldenRecordCodec.recordJSON(outcome.fields, order: spec.fieldOrder),
                            provenance: GoldenRecordCodec.provenanceJSON(outcome.fields, order: spec.fieldOrder),
                            sources: sources, kinds: kinds)
        return Outcome(merged: merged, kinds: kinds, retired: outcome.retired, fields: outcome.fields, sent: sent)
    }

    /// Records which entity each accepted source record touched.
    private mutating func note(entity id: String, resource: String, key: String, bound: [String: [Bound]]) {
        let reference = "\(resource)/\(id)"
        for b in bound[resource + "\u{1F}" + key] ?? [] where b.index >= 0 && outcomes[b.index]?.entities.contains(reference) == false {
            outcomes[b.index]?.entities.append(reference)
        }
    }

    static func issuesJSON(_ problems: [RecordOutcome.Problem]) -> String {
        var out = "["
        for (i, p) in problems.enumerated() {
            if i > 0 { out += "," }
            out += "{\"field\":"
            JSONStringEscaper.append(p.field, to: &out)
            out += ",\"rule\":"
            JSONStringEscaper.append(p.rule, to: &out)
            out += ",\"message\":"
            JSONStringEscaper.append(p.message, to: &out)
            out += ",\"severity\":"
            JSONStringEscaper.append(p.severity, to: &out)
            out += "}"
        }
        return out + "]"
    }
}

// MARK: matching (records without a usable identity key; guide: docs/stewardship.md "Review queue")

extension BatchWriter {
    /// A canonical record of a matchable output whose identity key was missing or invalid.
    struct Keyless {
        let index: Int
        let record: CanonicalRecord
        let key: String
        let position: String
    }

    private mutating func warn(_ index: Int, _ resource: String, _ rule: String, _ message: String) {
        guard index >= 0 else { return }
        outcomes[index]?.problems.append(RecordOutcome.Problem(field: resource, rule: rule, message: message, severity: "warning"))
    }

    /// Links each keyless record whose one safe candidate clears its output's threshold; the rest
    /// become match cases (or update their open case, on redelivery) with their candidates.
    mutating func match(_ keyless: [Keyless], into result: inout BatchOutcome) throws -> [NewChangeEvent] {
        var linked: [String: [Bound]] = [:]
        var order: [(resource: String, key: String)] = []
        var cases: [(k: Keyless, blocks: [String], threshold: Double, outcome: String, candidates: [MatchIndex.Candidate])] = []
        for resource in Set(keyless.map(\.record.resource)).sorted() {
            let group = keyless.filter { $0.record.resource == resource }
            let matcher = rules.matchers[resource]!
            let threshold = plan.matchSettings(resource: resource)?.autoLink ?? MatchSettings.defaultAutoLink
            let values = group.map { MatchIndex.values($0.record) }
            let found = try MatchIndex.candidates(resource: resource, records: values, matcher: matcher, in: connection)
            for (i, k) in group.enumerated() {
                if let c = MatchIndex.autoLink(found[i], threshold: threshold) {
                    let note = MatchNote(rule: c.foundBy[0], score: c.score, matchCase: nil, by: "auto")
                    let provenance = FieldProvenance(adapter: adapter.id, department: adapter.department, sourceKey: k.key, mappingID: plan.id,
                                                     mappingVersion: plan.version, observedAt: observedAt, match: note)
                    let id = resource + "\u{1F}" + c.identityKey
                    if linked[id] == nil { order.append((resource, c.identityKey)) }
                    linked[id, default: []].append(Bound(index: k.index, record: k.record, provenance: provenance, first: nil))
                    warn(k.index, resource, "match.linked", "no usable identity key; linked by matching (rule \(note.rule), score \(note.score))")
                } else {
                    let blocks = MatchIndex.blocks(matcher, resource: resource, values: values[i]).map(\.hash)
                    cases.append((k, blocks, threshold, MatchIndex.outcome(found[i]), found[i]))
                }
            }
        }
        if !cases.isEmpty {
            let rows = try connection.query("""
                INSERT INTO match_cases (adapter, department, mapping, mapping_version, resource, source_key, position, record, blocks,
                                         auto_link, outcome, candidates, score)
                SELECT $1, $2, $3, $4, r, k, pos, rec::json, string_to_array(b, ','), t, o, c::json, NULLIF(s, -2)
                FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[], $11::text[], $12::text[], $13::float8[])
                    AS u(r, k, pos, rec, b, t, o, c, s)
                ON CONFLICT (adapter, resource, source_key) WHERE status = 'open' DO UPDATE
                  SET position = EXCLUDED.position, record = EXCLUDED.record, blocks = EXCLUDED.blocks, auto_link = EXCLUDED.auto_link,
                      outcome = EXCLUDED.outcome, candidates = EXCLUDED.candidates, score = EXCLUDED.score,
                      mapping_version = EXCLUDED.mapping_version, updated_at = now()
                RETURNING id, resource, source_key
                """, [adapter.id, adapter.department, plan.id, plan.version, cases.map(\.k.record.resource), cases.map(\.k.key),
                      cases.map(\.k.position), cases.map { $0.k.record.fieldsJSON() }, cases.map { $0.blocks.joined(separator: ",") },
                      cases.map(\.threshold), cases.map(\.outcome), cases.map { "[" + $0.candidates.map(\.json).joined(separator: ",") + "]" },
                      cases.map { $0.candidates.first?.score ?? -2 }])
            var ids: [String: String] = [:]
            for row in rows.rows { ids[row["resource"]! + "\u{1F}" + row["source_key"]!] = row["id"] }
            for c in cases {
                let id = ids[c.k.record.resource + "\u{1F}" + c.k.key] ?? "?"
                warn(c.k.index, c.k.record.resource, "match.queued",
                     "no usable identity key; waiting for review as match case \(id) (\(c.outcome.replacingOccurrences(of: "_", with: " ")))")
            }
            result.matchCases += cases.count
        }
        result.matchLinked += linked.values.reduce(0) { $0 + $1.count }
        let events = try merge(bound: linked, order: order, into: &result)
        try refreshMatchKeys()
        return events
    }

    /// Open cases that share a blocking key with an entity this batch wrote, when that entity is
    /// now the case's one safe candidate among all (score at or above the case's threshold, no
    /// disagreeing rule, no other candidate at the threshold): linked automatically, the case says so.
    mutating func linkOpenCases(into result: inout BatchOutcome, awaitTurn: () throws -> Void = {}) throws -> [NewChangeEvent] {
        // Per entity, its latest entry in `written`.
        var latest: [String: Int] = [:]
        for (i, w) in written.enumerated() where rules.matchers[w.resource] != nil { latest[w.id] = i }
        guard !latest.isEmpty else { return [] }
        let resources = Set(latest.values.map { written[$0].resource }).sorted()
        // No open case of these resources (the usual state during a first load): nothing to link,
        // and no blocking key needs to be looked up.
        guard try !connection.query("SELECT 1 FROM match_cases WHERE status = 'open' AND resource = ANY($1::text[]) LIMIT 1",
                                    [resources]).rows.isEmpty else { return [] }
        // Which candidate is the one safe one depends on every entity: the earlier batches' too.
        try awaitTurn()
        workOutMatchData()
        var events: [NewChangeEvent] = []
        for resource in resources {
            let matcher = rules.matchers[resource]!
            var byBlock: [String: [String]] = [:]
            var values: [String: [String: String]] = [:]
            var keys: [String: String] = [:]
            for (id, i) in latest where written[i].resource == resource {
                values[id] = writtenMatch[i]!.values
                for b in writtenMatch[i]!.blocks { byBlock[b.hash, default: []].append(id) }
            }
            guard !byBlock.isEmpty else { continue }
            let open = try connection.query("""
                SELECT c.id, c.adapter, c.department, c.source_key, c.mapping, c.mapping_version, c.record::text AS record,
                       c.auto_link
                FROM match_cases c WHERE c.status = 'open' AND c.resource = $1 AND c.blocks && $2::text[]
                ORDER BY c.id FOR UPDATE
                """, [resource, Array(byBlock.keys)]).rows
            guard !open.isEmpty else { continue }
            for row in try connection.query("SELECT id, identity_key FROM entities WHERE id = ANY($1::uuid[])", [Array(values.keys)]).rows {
                keys[row["id"]!] = row["identity_key"]
            }
            var groups: [String: (source: (id: String, department: String), bound: [String: [Bound]], order: [(resource: String, key: String)])] = [:]
            var settled: [(id: Int64, entity: String, score: Double)] = []
            // Every candidate of each case counts, not only the entities this batch wrote: a case
            // is linked only when the one safe candidate among all of them is one of ours.
            let caseValues = open.map { MatchIndex.values(json: $0["record"]!) }
            let allCandidates = try MatchIndex.candidates(resource: resource, records: caseValues, matcher: matcher, in: connection)
            for (i, row) in open.enumerated() {
                let threshold = Double(row["auto_link"] ?? "") ?? MatchSettings.defaultAutoLink
                guard let chosen = MatchIndex.autoLink(allCandidates[i], threshold: threshold), values[chosen.entityID] != nil,
                      let key = keys[chosen.entityID], let caseID = Int64(row["id"]!) else { continue }
                let (entity, score, rule) = (chosen.entityID, chosen.score, chosen.foundBy[0])
                let note = MatchNote(rule: rule, score: score, matchCase: caseID, by: "auto")
                let provenance = FieldProvenance(adapter: row["adapter"]!, department: row["department"]!, sourceKey: row["source_key"]!,
                                                 mappingID: row["mapping"]!, mappingVersion: Int(row["mapping_version"]!) ?? 0,
                                                 observedAt: observedAt, match: note)
                let record = MatchIndex.record(resource: resource, fieldsJSON: row["record"]!, sourceKey: row["source_key"]!,
                                               mapping: row["mapping"]!, version: provenance.mappingVersion)
                let group = row["adapter"]! + "\u{1F}" + row["department"]!
                if groups[group] == nil { groups[group] = ((row["adapter"]!, row["department"]!), [:], []) }
                let id = resource + "\u{1F}" + key
                if groups[group]!.bound[id] == nil { groups[group]!.order.append((resource, key)) }
                groups[group]!.bound[id, default: []].append(Bound(index: -1, record: record, provenance: provenance, first: nil))
                settled.append((caseID, entity, score))
            }
            for name in groups.keys.sorted() {
                let g = groups[name]!
                events += try merge(bound: g.bound, order: g.order, into: &result, source: g.source)
            }
            if !settled.isEmpty {
                try connection.execute("""
                    UPDATE match_cases c SET status = 'linked', linked_entity = u.e, decided_by = 'auto', decided_at = now(), updated_at = now(),
                           reason = 'linked automatically: a later record with a clean identity key agrees on every compared rule (score '
                                    || u.s::text || ')'
                    FROM unnest($1::bigint[], $2::uuid[], $3::float8[]) AS u(i, e, s) WHERE c.id = u.i
                    """, [settled.map(\.id), settled.map(\.entity), settled.map(\.score)])
                result.matchCasesLinked += settled.count
            }
        }
        if !events.isEmpty { try refreshMatchKeys() }
        return events
    }

    /// Values and blocking keys of the entries of `written` that have none yet.
    private mutating func workOutMatchData() {
        while writtenMatch.count < written.count {
            let w = written[writtenMatch.count]
            writtenMatch.append(w.match ?? rules.matchers[w.resource].map { MatchIndex.matchData($0, resource: w.resource, json: w.record) })
        }
    }

    /// Brings match_keys up to date with `written`: the entities written since the last call get
    /// their keys rewritten, from every version of them this writer wrote (as a rewrite of all of
    /// `written` would leave them; the others' keys are already what that would write again).
    mutating func refreshMatchKeys() throws {
        guard keyedCount < written.count else { return }
        workOutMatchData()
        let ids = Set(written[keyedCount...].filter { rules.matchers[$0.resource] != nil }.map(\.id))
        keyedCount = written.count
        guard !ids.isEmpty else { return }
        var entries: [(id: String, resource: String, blocks: [(rule: String, hash: String)])] = []
        for (i, w) in written.enumerated() where ids.contains(w.id) { entries.append((w.id, w.resource, writtenMatch[i]!.blocks)) }
        let deleting = ids.filter { !createdUnkeyed.contains($0) }
        createdUnkeyed.subtract(ids)
        // Every entity in `ids` was created or locked by this transaction, and those that can
        // have keys are being deleted: nothing can conflict.
        try MatchIndex.replace(entries, deleting: Array(deleting), exclusive: true, in: connection)
    }

    /// An open case whose source record came again, now with a usable key, is settled by it: the
    /// record went to its entity like any other, and the case says so.
    mutating func closeCasesOfRedeliveredRecords(keyless: Set<Int>) throws {
        // No open case of this adapter (the usual state during a load): nothing to settle, and
        // no reason to go through the batch's records or look each key up.
        guard !rules.matchers.isEmpty, !outcomes.isEmpty,
              try !connection.query("SELECT 1 FROM match_cases WHERE status = 'open' AND adapter = $1 LIMIT 1",
                                    [adapter.id]).rows.isEmpty else { return }
        var keys: [String] = [], resources: [String] = [], entities: [String] = []
        for (index, outcome) in outcomes.enumerated() where !keyless.contains(index) {
            guard let outcome, outcome.status == .accepted, let key = outcome.sourceKey else { continue }
            for reference in outcome.entities {
                let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, rules.matchers[parts[0]] != nil else { continue }
                keys.append(key); resources.append(parts[0]); entities.append(parts[1])
            }
        }
        guard !keys.isEmpty else { return }
        try connection.execute("""
            UPDATE match_cases c SET status = 'linked', linked_entity = u.e, decided_by = 'auto', decided_at = now(), updated_at = now(),
                   reason = 'the source record arrived again with a usable identity key'
            FROM unnest($2::text[], $3::text[], $4::uuid[]) AS u(k, r, e)
            WHERE c.status = 'open' AND c.adapter = $1 AND c.resource = u.r AND c.source_key = u.k
            """, [adapter.id, keys, resources, entities])
    }

    /// Applies one case's record to the entity an admin named, as if it had arrived with its key
    /// (survivorship, conflicts, counters, change event), in the caller's transaction.
    mutating func applyLinked(_ record: CanonicalRecord, resource: String, key: String, provenance: FieldProvenance) throws -> BatchOutcome {
        var result = BatchOutcome()
        let bound = [resource + "\u{1F}" + key: [Bound(index: -1, record: record, provenance: provenance, first: nil)]]
        let events = try merge(bound: bound, order: [(resource, key)], into: &result,
                               source: (provenance.adapter, provenance.department))
        try refreshMatchKeys()
        try writeTallies()
        result.lastPosition = try ChangeLog.append(events, in: connection)
        result.events = events.count
        return result
    }
}
