import Feed
import Foundation
import HTTP
import RecordStore
import Store
import Telemetry

/// One hub process: its database (embedded or given), migrations, credentials and HTTP API.
///
/// `start()` brings everything up in order and `stop()` takes it down in reverse; the CLI calls
/// `stop()` on SIGINT and SIGTERM so the embedded PostgreSQL never outlives the hub.
public final class Hub: @unchecked Sendable {
    public let configuration: HubConfiguration
    public let logger: Logger
    public let metrics = MetricsRegistry()
    public private(set) var pool: ConnectionPool!
    public private(set) var embeddedDatabase: EmbeddedPostgres?
    private var server: HTTPServer?
    /// The routes this hub serves (for the OpenAPI completeness check).
    public private(set) var router: Router?
    /// The catalog, adapters and mappings, and the store they write to (after `start()`).
    public private(set) var ingest: IngestService!
    /// The change feed: subscriptions, pull/SSE/webhook delivery, audit (after `start()`).
    public private(set) var feed: FeedService?
    let migrator = Migrator(migrations: Schema.migrations)

    public init(configuration: HubConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The port the API listens on (the real one when the configuration said 0).
    public var port: Int { server?.boundPort ?? configuration.port }

    /// The database URL in use (the embedded cluster's when none was configured).
    public var databaseURL: String { pool.url }

    public func start() throws {
        let registry = try IngestRegistry.load(configuration, logger: logger)
        let database = try HubDatabase.open(configuration, logger: logger)
        embeddedDatabase = database.embedded
        pool = ConnectionPool(url: database.url, maxConnections: configuration.databasePoolSize)
        pool.register(in: metrics)
        do {
            try database.migrate(logger: logger)
        } catch {
            stop()
            throw error
        }
        try AdminCredentials.ensure(pool: pool, dataDirectory: configuration.dataDirectory,
                                    configured: configuration.adminToken, logger: logger)
        try registry.registerTokens(pool: pool, adaptersDirectory: configuration.adaptersDirectory, logger: logger)
        ingest = IngestService(registry: registry, store: RecordStore(pool: pool, rules: registry.rules))
        let router = Router(defaultBodyLimit: configuration.maxRequestBody)
        SystemRoutes(pool: pool, migrator: migrator, metrics: metrics).register(on: router)
        let auth = Authenticator(pool: pool)
        let feed = FeedService(store: ingest.store, catalog: registry.catalog, settings: configuration.feed, logger: logger.child(label: "feed"))
        feed.start()
        self.feed = feed
        let feedRoutes = feed.routes { request in try auth.feedCaller(request) }
        feedRoutes.register(on: router)
        RecordRoutes(ingest: ingest, auth: auth, maxIngestBody: configuration.maxIngestBody, feed: feed, feedRoutes: feedRoutes).register(on: router)
        let server = HTTPServer(host: configuration.host, port: configuration.port, router: router,
                                threads: configuration.httpThreads, logger: logger.child(label: "http"), metrics: metrics)
        do {
            try server.start()
        } catch {
            stop()
            throw error
        }
        self.server = server
        self.router = router
        logger.info("hub listening", ["host": configuration.host, "port": String(server.boundPort)])
    }

    /// Stops the HTTP server, closes the pool, and stops the embedded cluster. Safe to call twice.
    public func stop() {
        server?.stop()
        server = nil
        feed?.stop()
        feed = nil
        pool?.close()
        embeddedDatabase?.stop()
        embeddedDatabase = nil
    }
}
