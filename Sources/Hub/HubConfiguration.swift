import Adapters
import Feed
import Foundation
import Telemetry

/// Everything `recordonce serve` needs to start a hub. The CLI fills it from options and
/// environment variables; tests build it directly.
public struct HubConfiguration: Sendable {
    /// Address the HTTP server binds to. 127.0.0.1 unless the operator opens it up.
    public var host: String = "127.0.0.1"
    /// HTTP port; 0 picks a free one (tests read it back from `Hub.port`).
    public var port: Int = 8080
    /// An existing PostgreSQL server; nil starts the embedded cluster under `dataDirectory`.
    public var databaseURL: String?
    /// Folder for the embedded cluster and the generated admin token.
    public var dataDirectory: String = "./var"
    /// Fixed admin token (RECORDONCE_ADMIN_TOKEN); nil generates one on first start.
    public var adminToken: String?
    /// Database connections this process may hold.
    public var databasePoolSize: Int = 16
    /// HTTP worker threads (libmicrohttpd's thread pool).
    public var httpThreads: Int = 4
    /// The most HTTP connections open at once, SSE streams included (libmicrohttpd refuses more).
    /// Each holds a file descriptor: the process's open-file limit must be above it.
    public var httpMaxConnections: Int = 16_000
    /// Largest request body accepted by default, in bytes.
    public var maxRequestBody: Int = 1 << 20
    /// The canonical catalog (resources, code tables).
    public var catalogDirectory: String = "mappings/catalog"
    /// Mapping files; an adapter's `mapping` is relative to this folder.
    public var mappingsDirectory: String = "mappings"
    /// Adapter declarations (`*.json5`).
    public var adaptersDirectory: String = "adapters"
    /// Largest push accepted by `POST /v1/ingest/{adapter}`, in bytes.
    public var maxIngestBody: Int = 32 << 20
    /// Embedded cluster only: fsync on (false for throwaway test hubs).
    public var durableEmbeddedDatabase: Bool = true
    /// Run pull adapters in this process (false: this hub only serves the API and takes pushes).
    public var runsAdapterScheduler: Bool = true
    /// The pull kinds declarations may use.
    public var pullKinds: [any PullKind.Type] = PullKinds.all
    /// Lease, tick, concurrency and backoff of the pull scheduler.
    public var scheduler = SchedulerConfiguration()
    /// How often this process picks up adapter registrations made through another hub process.
    public var adapterRefreshSeconds: Double = 2
    /// Start even when the catalog changed in breaking ways since the last start (the changes
    /// are logged); without it such a start fails listing every breaking change.
    public var acceptCatalogChanges: Bool = false
    /// The change feed: audit retention, SSE heartbeat, webhook retries and disabling.
    public var feed = FeedSettings()

    public init() {}
}
