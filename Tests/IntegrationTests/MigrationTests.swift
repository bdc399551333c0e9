import Foundation
import Testing
@testable import Store

@Suite struct MigrationTests {
    let migrations = [
        Migration(id: "0001_people", sql: "CREATE TABLE people (id bigint PRIMARY KEY)"),
        Migration(id: "0002_names", sql: "ALTER TABLE people ADD COLUMN name text"),
    ]

    @Test func appliesEachMigrationOnceAndRecordsIt() throws {
        let url = try TestDatabase.fresh()
        let c = try PostgresConnection(url: url)
        let migrator = Migrator(migrations: migrations)
        #expect(try migrator.pending(c) == ["0001_people", "0002_names"])
        #expect(try migrator.migrate(c) == ["0001_people", "0002_names"])
        #expect(try migrator.migrate(c) == [])
        #expect(try migrator.pending(c).isEmpty)
        let more = Migrator(migrations: migrations + [Migration(id: "0003_idx", sql: "CREATE INDEX ON people (name)")])
        #expect(try more.pending(c) == ["0003_idx"])
        #expect(try more.migrate(c) == ["0003_idx"])
    }

    /// Stores made before 0016/0017 keep working: the changed fields go (the change log has
    /// them), stored blocking keys and open cases' keys are cut to the new length, and two keys of
    /// one entity that the cut makes equal become one.
    @Test func blockingKeysAndChangedFieldsOfAnOlderStoreAreMigrated() throws {
        let url = try TestDatabase.fresh()
        let c = try PostgresConnection(url: url)
        let newer: Set<String> = ["0016_changed_fields_once", "0017_short_blocking_keys"]
        _ = try Migrator(migrations: Schema.migrations.filter { !newer.contains($0.id) }).migrate(c)
        let entity = "01a24950-e7fe-7e7c-b58a-14cf8f9cc9eb"
        try c.execute("""
            INSERT INTO entities (id, resource, identity_key, version, record, provenance, changed_fields)
            VALUES ($1, 'Person', 'k', 1, '{}', '{"sources":[],"fields":{}}', '{name}')
            """, [entity])
        let long = String(repeating: "ab", count: 32), twin = String(repeating: "ab", count: 8) + String(repeating: "cd", count: 24)
        let other = String(repeating: "0f", count: 32)
        try c.execute("INSERT INTO match_keys (resource, block, entity_id) VALUES ('Person', $1, $3), ('Person', $2, $3), ('Person', $4, $3)",
                      [long, twin, entity, other])
        try c.execute("""
            INSERT INTO match_cases (adapter, department, mapping, mapping_version, resource, source_key, position, record, blocks, auto_link, outcome, candidates)
            VALUES ('a', 'd', 'm', 1, 'Person', 's', 'line 1', '{}', $1::text[], 0.9, 'no_candidate', '[]')
            """, [[long, other]])
        #expect(try Migrator(migrations: Schema.migrations).migrate(c) == ["0016_changed_fields_once", "0017_short_blocking_keys"])
        let keys = try c.query("SELECT block FROM match_keys ORDER BY block").rows.compactMap { $0["block"] }
        #expect(keys == [String(repeating: "0f", count: 8), String(repeating: "ab", count: 8)])
        #expect(try c.query("SELECT blocks::text AS b FROM match_cases").first?["b"]
                == "{\(String(repeating: "ab", count: 8)),\(String(repeating: "0f", count: 8))}")
        #expect(try c.query("SELECT 1 FROM information_schema.columns WHERE table_name IN ('entities', 'entity_versions') AND column_name = 'changed_fields'").rows.isEmpty)
    }

    @Test func failingMigrationRollsBackAloneAndStopsTheRun() throws {
        let c = try PostgresConnection(url: try TestDatabase.fresh())
        let broken = Migrator(migrations: migrations + [Migration(id: "0003_bad", sql: "CREATE TABLE x (a int); SELEC 1")])
        #expect(throws: PostgresError.self) { try broken.migrate(c) }
        #expect(try broken.pending(c) == ["0003_bad"])
        #expect(try c.query("SELECT to_regclass('x') AS r").first?["r"] == nil)
    }

    @Test func concurrentProcessesApplyAMigrationOnlyOnce() throws {
        let url = try TestDatabase.fresh()
        // A migration that fails if it runs twice: it would insert a duplicate key.
        let once = Migrator(migrations: [
            Migration(id: "0001_t", sql: "CREATE TABLE t (k int PRIMARY KEY); SELECT pg_sleep(0.2); INSERT INTO t VALUES (1)"),
        ])
        let results = Mutexed<[Result<[String], any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let r = Result { try once.migrate(PostgresConnection(url: url)) }
            results.withLock { $0.append(r) }
        }
        let all = results.withLock { $0 }
        #expect(all.allSatisfy { (try? $0.get()) != nil })
        #expect(all.compactMap { try? $0.get() }.flatMap { $0 } == ["0001_t"])
    }
}

/// A value behind a lock, for collecting results from concurrent test threads.
final class Mutexed<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
