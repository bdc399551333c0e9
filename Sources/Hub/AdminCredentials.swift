import Foundation
import Secrets
import Store
import Telemetry

/// The admin token: generated on first start and written once to `<data-dir>/admin.token`
/// (mode 0600); only its hash is kept in the database. RECORDONCE_ADMIN_TOKEN replaces it.
enum AdminCredentials {
    static let fileName = "admin.token"

    /// Makes sure an admin token exists and returns where its value can be found, if anywhere.
    static func ensure(pool: ConnectionPool, dataDirectory: String, configured: String?, logger: Logger) throws {
        if let configured, !configured.isEmpty {
            try pool.transaction { c in
                try c.execute("UPDATE api_tokens SET revoked_at = now() WHERE kind = 'admin' AND revoked_at IS NULL AND token_hash <> $1",
                              [PostgresBytes(Secrets.sha256(configured))])
                try c.execute("""
                    INSERT INTO api_tokens (kind, token_hash) VALUES ('admin', $1)
                    ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL
                    """, [PostgresBytes(Secrets.sha256(configured))])
            }
            logger.info("admin token taken from RECORDONCE_ADMIN_TOKEN")
            return
        }
        let token = Secrets.newToken(prefix: "ro_admin")
        let inserted = try pool.withConnection { c in
            try c.execute("""
                INSERT INTO api_tokens (kind, token_hash) VALUES ('admin', $1)
                ON CONFLICT (kind) WHERE kind = 'admin' AND revoked_at IS NULL DO NOTHING
                """, [PostgresBytes(Secrets.sha256(token))])
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(fileName).path
        guard inserted == 1 else {
            if !FileManager.default.fileExists(atPath: path) {
                logger.warning("an admin token exists but its file is not on this host; set RECORDONCE_ADMIN_TOKEN to replace it",
                               ["file": path])
            }
            return
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let created = FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600])
        guard created else { throw HubError("cannot write the admin token to \(path)") }
        chmod(path, 0o600)
        logger.info("generated the admin token", ["file": path])
    }
}

/// A hub start-up or wiring failure, with a message that says what to do.
public struct HubError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
