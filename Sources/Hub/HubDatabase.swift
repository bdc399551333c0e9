import Foundation
import Store
import Telemetry

/// The database a hub process uses: the configured URL, or the embedded cluster in the data
/// folder (started, or attached to when another process already runs it).
public struct HubDatabase: Sendable {
    public let url: String
    public let embedded: EmbeddedPostgres?

    public static func open(_ configuration: HubConfiguration, logger: Logger) throws -> HubDatabase {
        if let url = configuration.databaseURL, !url.isEmpty { return HubDatabase(url: url, embedded: nil) }
        let embedded = try EmbeddedPostgres(options: EmbeddedPostgresOptions(
            dataDirectory: configuration.dataDirectory, durable: configuration.durableEmbeddedDatabase),
            logger: logger.child(label: "postgres"))
        return HubDatabase(url: try embedded.start(), embedded: embedded)
    }

    /// Applies pending migrations and returns their ids.
    @discardableResult
    public func migrate(logger: Logger) throws -> [String] {
        do {
            let migrator = Migrator(migrations: Schema.migrations)
            let connection = try PostgresConnection(url: url)
            // Nothing pending: leave the schema alone, so a runtime role without CREATE rights starts.
            if try migrator.pending(connection).isEmpty { return [] }
            let applied = try migrator.migrate(connection)
            if !applied.isEmpty { logger.info("applied migrations", ["ids": applied.joined(separator: ",")]) }
            return applied
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw HubError("""
                migrations are pending and the role in the database URL may not apply them (a runtime role of \
                `recordonce db init-roles`): run `recordonce db migrate` with the owner role's URL first (\(error))
                """)
        } catch {
            throw HubError("the database at \(Self.redacted(url)) is not usable: \(error)")
        }
    }

    /// Stops the embedded cluster if this process started it.
    public func close() { embedded?.stop() }

    /// A URL without its password, for logs and errors.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
