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
    /// The feed's replica pool (`feedDatabaseURL`); nil when the feed reads the primary.
    public private(set) var feedPool: ConnectionPool?
    public private(set) var embeddedDatabase: EmbeddedPostgres?
    /// Restarts the embedded cluster after a crash (nil with an external database, or when another
    /// process owns the cluster).
    public private(set) var databaseSupervisor: EmbeddedPostgresSupervisor?
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
        // A bad certificate or key stops the start before any database is touched.
        try configuration.tls?.check()
        let registry = try IngestRegistry.load(configuration, logger: logger)
        let database = try HubDatabase.open(configuration, logger: logger)
        embeddedDatabase = database.embedded
        pool = ConnectionPool(url: database.url, maxConnections: configuration.databasePoolSize)
        pool.register(in: metrics)
        if let embedded = database.embedded, embedded.isOwner {
            let pool = self.pool!
            let supervisor = EmbeddedPostgresSupervisor(database: embedded, logger: logger.child(label: "postgres"),
                                                        metrics: metrics) { [weak self] in
                pool.discardIdle()
                self?.scheduler?.wake()
            }
            supervisor.start()
            databaseSupervisor = supervisor
        }
        do {
            try database.migrate(logger: logger)
        } catch {
            stop()
            throw error
        }
        do {
            try CatalogSnapshots.checkAtStart(catalog: registry.catalog, directory: configuration.catalogDirectory,
                                              mappings: CatalogCheck.mappingTexts(folder: configuration.mappingsDirectory,
                                                                                  published: MappingVersionStore(pool: pool).newest()),
                                              pool: pool, accept: configuration.acceptCatalogChanges, logger: logger)
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
        router.errorTranslator = { error in
            guard let error = error as? PostgresError, error.isRetriable else { return nil }
            return HTTPError(status: 503, code: "unavailable", message: "the database is unavailable; send the same request again later",
                             headers: [HTTPHeader("Retry-After", "2")])
        }
        let auth = Authenticator(pool: pool)
        if let url = configuration.feedDatabaseURL {
            feedPool = ConnectionPool(url: url, maxConnections: configuration.databasePoolSize)
            logger.info("the feed reads from a replica", ["database": Self.hostOf(url)])
        }
        SystemRoutes(pool: pool, migrator: migrator, metrics: metrics, supervisor: databaseSupervisor, feedPool: feedPool).register(on: router)
        let feed = FeedService(store: ingest.store, catalog: registry.catalog, settings: configuration.feed, replica: feedPool,
                               logger: logger.child(label: "feed"))
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
        StatsRoutes(pool: pool, catalog: registry.catalog, auth: auth).register(on: router)
        CatalogRoutes(catalog: registry.catalog, auth: auth).register(on: router)
        ConsoleRoutes.bundled().register(on: router)
        MappingRoutes(registrations: adapters, auth: auth, maxBody: configuration.maxIngestBody).register(on: router)
        ReplayRoutes(replayer: Replayer(ingest: ingest), auth: auth).register(on: router)
        let server = HTTPServer(host: configuration.host, port: configuration.port, router: router,
                                threads: configuration.httpThreads, maxConnections: configuration.httpMaxConnections,
                                tls: configuration.tls, logger: logger.child(label: "http"), metrics: metrics)
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

    /// The host part of a database URL, for logs (never the password).
    static func hostOf(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return "(unparsed URL)" }
        return (components.host ?? "local socket") + (components.port.map { ":\($0)" } ?? "")
    }

    /// Reads the TLS certificate and key again (SIGHUP); on an error the previous ones stay in use.
    public func reloadCertificates() throws {
        try server?.reloadCertificates()
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
        databaseSupervisor?.stop()
        databaseSupervisor = nil
        feedPool?.close()
        feedPool = nil
        embeddedDatabase?.stop()
        embeddedDatabase = nil
    }
}
