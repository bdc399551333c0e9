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
