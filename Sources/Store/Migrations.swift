import Foundation

/// One versioned schema change. Identifiers sort in the order migrations apply ("0001_core").
public struct Migration: Sendable {
    public let id: String
    public let sql: String

    public init(id: String, sql: String) {
        self.id = id
        self.sql = sql
    }
}

/// Applies migrations once each, in order, each in its own transaction, and records them in
/// `schema_migrations`. A session-level advisory lock makes concurrent hub processes wait for
/// each other, so no migration runs twice.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    /// Arbitrary constant that identifies RecordOnce's migration lock.
    static let lockKey: Int64 = 0x5265_634F_6E63_65

    public init(migrations: [Migration]) {
        precondition(Set(migrations.map(\.id)).count == migrations.count, "duplicate migration id")
        self.migrations = migrations.sorted { $0.id < $1.id }
    }

    /// Applies what is pending and returns the identifiers applied by this call.
    @discardableResult
    public func migrate(_ connection: PostgresConnection, log: (String) -> Void = { _ in }) throws -> [String] {
        try connection.execute("SELECT pg_advisory_lock($1)", [Self.lockKey])
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey]) }
        try connection.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                id text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let done = Set(try connection.query("SELECT id FROM schema_migrations").rows.compactMap { $0[0] })
        var applied: [String] = []
        for migration in migrations where !done.contains(migration.id) {
            try connection.transaction { c in
                try c.executeScript(migration.sql)
                try c.execute("INSERT INTO schema_migrations (id) VALUES ($1)", [migration.id])
            }
            log(migration.id)
            applied.append(migration.id)
        }
        return applied
    }

    /// Migrations not yet applied to this database (all of them when it has none).
    public func pending(_ connection: PostgresConnection) throws -> [String] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS e").first?["e"] == "t"
        guard exists else { return migrations.map(\.id) }
        let done = Set(try connection.query("SELECT id FROM schema_migrations").rows.compactMap { $0[0] })
        return migrations.map(\.id).filter { !done.contains($0) }
    }
}
