import Adapters
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
    /// Adapter registrations and run state (after `start()`).
    public private(set) var adapters: AdapterRegistrations!
    /// This process's pull scheduler; nil when `runsAdapterScheduler` is false.
    public private(set) var scheduler: AdapterScheduler?
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
        let adapterStore = AdapterRunStore(pool: pool)
        adapters = AdapterRegistrations(registry: registry, store: adapterStore, configuration: configuration,
                                        logger: logger.child(label: "adapters"))
        do {
            try adapters.storeFileDeclarations()
            try adapters.refresh()
        } catch {
            stop()
            throw error
        }
        AdapterMetrics(store: adapterStore).register(in: metrics)
        if configuration.runsAdapterScheduler {
            var schedulerConfiguration = configuration.scheduler
            schedulerConfiguration.kinds = configuration.pullKinds
            schedulerConfiguration.baseDirectory = configuration.adaptersDirectory
            scheduler = AdapterScheduler(store: adapterStore, sink: IngestPageSink(ingest: ingest, registrations: adapters), configuration: schedulerConfiguration,
                                         logger: logger.child(label: "scheduler"), metrics: metrics)
        }
        let router = Router(defaultBodyLimit: configuration.maxRequestBody)
        let auth = Authenticator(pool: pool)
        SystemRoutes(pool: pool, migrator: migrator, metrics: metrics).register(on: router)
        let feed = FeedService(store: ingest.store, catalog: registry.catalog, settings: configuration.feed, logger: logger.child(label: "feed"))
        feed.start()
        self.feed = feed
        let feedRoutes = feed.routes { request in try auth.feedCaller(request) }
        feedRoutes.register(on: router)
        RecordRoutes(ingest: ingest, auth: auth, maxIngestBody: configuration.maxIngestBody, adapters: adapterStore,
                     feed: feed, feedRoutes: feedRoutes).register(on: router)
        StewardshipRoutes(store: ingest.store, catalog: registry.catalog, auth: auth).register(on: router)
        MatchRoutes(ingest: ingest, auth: auth).register(on: router)
        RecordOnceMetrics(store: ingest.store).register(in: metrics)
        let scheduler = self.scheduler
        AdapterRoutes(registrations: adapters, auth: auth, wake: { scheduler?.wake() }).register(on: router)
        let server = HTTPServer(host: configuration.host, port: configuration.port, router: router,
                                threads: configuration.httpThreads, maxConnections: configuration.httpMaxConnections,
                                logger: logger.child(label: "http"), metrics: metrics)
        do {
            try server.start()
        } catch {
            stop()
            throw error
        }
        self.server = server
        self.router = router
        adapters.startRefreshing(every: configuration.adapterRefreshSeconds)
        scheduler?.start()
        logger.info("hub listening", ["host": configuration.host, "port": String(server.boundPort)])
    }

    /// Stops the HTTP server, closes the pool, and stops the embedded cluster. Safe to call twice.
    public func stop() {
        scheduler?.stop()
        scheduler = nil
        adapters?.stop()
        server?.stop()
        server = nil
        feed?.stop()
        feed = nil
        pool?.close()
        embeddedDatabase?.stop()
        embeddedDatabase = nil
    }
}
