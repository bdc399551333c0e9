import Foundation

/// Why a backup or restore did not happen. Says what to do about it.
public struct DatabaseBackupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Backups of the hub's database with PostgreSQL's own tools: `pg_dump --format=custom` writes
/// one consistent snapshot (a repeatable-read transaction, taken while the hub keeps running),
/// and `pg_restore` loads it into an empty database in one transaction.
///
/// Everything the hub knows is in that one database: golden records, the change log and its
/// head, subscriptions with their positions, webhook delivery state, adapter checkpoints, audit.
public enum DatabaseBackup {
    /// Writes a backup of the database at `url` to `file`.
    public static func backup(url: String, to file: String) throws {
        let log = try logFile()
        defer { try? FileManager.default.removeItem(atPath: log) }
        let target = URL(fileURLWithPath: file).standardizedFileURL.path
        try withoutPassword(url) { url in
            try Subprocess.check([try tool("pg_dump"), "--format=custom", "--file=" + target, "--dbname=" + url], outputFile: log)
        }
    }

    /// Loads the backup in `file` into the database at `url`, which must hold no tables yet.
    /// Ownership and grants are not restored (the restoring role owns everything): run
    /// `recordonce db init-roles` afterwards on a database that uses separate roles.
    public static func restore(from file: String, url: String) throws {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw DatabaseBackupError("cannot read the backup file \(file)")
        }
        let tables = try PostgresConnection(url: url).query(
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")[0].decode(Int.self, "n")
        guard tables == 0 else {
            throw DatabaseBackupError("the target database already has \(tables) tables; restore into a new, empty database")
        }
        let log = try logFile()
        defer { try? FileManager.default.removeItem(atPath: log) }
        try withoutPassword(url) { url in
            try Subprocess.check([try tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
                                  "--dbname=" + url, URL(fileURLWithPath: file).standardizedFileURL.path], outputFile: log)
        }
    }

    /// pg_dump or pg_restore of the newest PostgreSQL installed (postgresql-client-15 on Debian).
    static func tool(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        let candidates = versions.map { "\(root)/\($0)/bin/\(name)" } + ["/usr/bin/\(name)"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw DatabaseBackupError("\(name) was not found; run deploy/setup (Debian package postgresql-client-15)")
        }
        return path
    }

    /// Runs `body` with the URL's password moved to PGPASSWORD, so it is not on a command line
    /// that every local user can read in /proc.
    static func withoutPassword(_ url: String, _ body: (String) throws -> Void) throws {
        guard var components = URLComponents(string: url), let password = components.password else {
            return try body(url)
        }
        components.password = nil
        setenv("PGPASSWORD", password, 1)
        defer { unsetenv("PGPASSWORD") }
        try body(components.string ?? url)
    }

    private static func logFile() throws -> String {
        let path = NSTemporaryDirectory() + "recordonce-backup-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw DatabaseBackupError("cannot create a temporary file for pg_dump's messages")
        }
        return path
    }
}
