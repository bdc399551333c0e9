import Catalog
import Foundation
import HTTP
import JSON5
import RecordStore
import Store
import Telemetry

/// Settings of the feed in one hub process.
public struct FeedSettings: Sendable {
    /// Audit entries older than this are purged, in days (default 3 years, PIPL art. 56).
    public var auditRetentionDays: Int = AuditLog.defaultRetentionDays
    /// How often the retention purge runs, in seconds.
    public var auditPurgeInterval: Double = 3600
    /// Seconds between SSE heartbeat comments on idle streams.
    public var heartbeatInterval: Double = 15
    /// Change events kept in memory for SSE streams near the head.
    public var streamTailCapacity: Int = 20_000
    public var webhooks = WebhookSettings()
    /// Whether this process delivers webhooks (several processes may; leases keep them apart).
    public var deliverWebhooks = true
    /// How often a feed node on a streaming replica reads the change log head, in seconds
    /// (LISTEN/NOTIFY does not reach replicas).
    public var replicaPollInterval: Double = 0.05

    public init() {}
}

/// Everything the feed runs in one hub process: the change notifier, SSE streams, the webhook
/// dispatcher, the audit purge, and the routes.
public final class FeedService: @unchecked Sendable {
    public let reader: FeedReader
    public let notifier: ChangeNotifier
    public let streams: FeedStreams
    public let dispatcher: WebhookDispatcher
    public let settings: FeedSettings
    let logger: Logger
    private var purgeTimer: (any DispatchSourceTimer)?

    /// `replica`: a pool on a streaming replica that the feed reads from (pages, SSE, snapshots),
    /// woken by polling its head; nil reads the primary, woken by LISTEN/NOTIFY. Writes (audit,
    /// subscriptions, webhook positions) always go to the store's pool, the primary.
    public init(store: RecordStore, catalog: Catalog, settings: FeedSettings = FeedSettings(), replica: ConnectionPool? = nil,
                logger: Logger) {
        self.settings = settings
        self.logger = logger
        reader = FeedReader(store: store, catalog: catalog, subscriptions: SubscriptionStore(pool: store.pool, catalog: catalog),
                            readPool: replica)
        notifier = ChangeNotifier(url: (replica ?? store.pool).url,
                                  wakeup: replica == nil ? .listen : .pollHead(interval: settings.replicaPollInterval), logger: logger)
        streams = FeedStreams(reader: reader, notifier: notifier, logger: logger, tailCapacity: settings.streamTailCapacity,
                              heartbeatInterval: settings.heartbeatInterval)
        dispatcher = WebhookDispatcher(reader: reader, notifier: notifier, settings: settings.webhooks, logger: logger)
    }

    /// Starts listening for changes, delivering webhooks, and purging the audit log on schedule.
    public func start() {
        notifier.start()
        if settings.deliverWebhooks { dispatcher.start() }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 5, repeating: settings.auditPurgeInterval)
        timer.setEventHandler { [weak self] in self?.purgeAudit() }
        timer.resume()
        purgeTimer = timer
    }

    public func stop() {
        purgeTimer?.cancel()
        dispatcher.stop()
        streams.stop()
        notifier.stop()
    }

    /// Deletes audit entries past the retention period; returns how many.
    @discardableResult
    public func purgeAudit() -> Int {
        do {
            let n = try reader.pool.withConnection { try AuditLog.purge(retentionDays: settings.auditRetentionDays, in: $0) }
            if n > 0 { logger.info("audit log purged", ["entries": String(n), "retention_days": String(settings.auditRetentionDays)]) }
            return n
        } catch {
            logger.warning("audit purge failed", ["error": String(describing: error)])
            return 0
        }
    }

    /// Records an admin's read of golden records (before the answer is sent: no audit, no answer).
    public func auditAdminRead(entityIDs: [String], fields: [String], purpose: String = "administration") throws {
        try reader.pool.withConnection {
            try AuditLog.append([AuditEntry(actor: "admin", purpose: purpose, channel: .adminRead, entityIDs: entityIDs, fields: fields)], in: $0)
        }
    }

    /// The member names of a record's JSON object (empty when it is not one).
    public static func fieldNames(ofRecord json: String) -> [String] {
        (try? JSON5.parseJSON(json))?.objectValue?.keys ?? []
    }
}
