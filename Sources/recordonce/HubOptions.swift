import CLIKit
import Foundation
import Hub
import Telemetry

/// Options shared by the commands that start or reach a hub (serve, db migrate, demo).
enum HubOptions {
    static let database: [Option] = [
        Option("database-url", value: "URL", help: "PostgreSQL to use; without it the hub runs its own embedded cluster in --data-dir.",
               environment: "RECORDONCE_DATABASE_URL"),
        Option("data-dir", value: "DIR", help: "Folder for the embedded PostgreSQL cluster and the generated admin token.",
               environment: "RECORDONCE_DATA_DIR", default: "./var"),
    ]

    /// Where the catalog, the mappings and the adapter declarations are.
    static let content: [Option] = [
        Option("catalog", value: "DIR", help: "The canonical catalog folder.", environment: "RECORDONCE_CATALOG_DIR",
               default: "mappings/catalog"),
        Option("mappings", value: "DIR", help: "Mapping files; an adapter's mapping is relative to it.",
               environment: "RECORDONCE_MAPPINGS_DIR", default: "mappings"),
        Option("adapters", value: "DIR", help: "Adapter declarations (*.json5).", environment: "RECORDONCE_ADAPTERS_DIR",
               default: "adapters"),
    ]

    /// Catalog changes at start-up (serve).
    static let catalogChanges: [Option] = [
        .flag("accept-catalog-changes", help: "Start even if the catalog changed in breaking ways since the last start "
              + "(see recordonce catalog check); without it such a start fails, listing every breaking change."),
    ]

    static let logging: [Option] = [
        Option("log-format", value: "FORMAT", help: "Log lines on stderr: json for machines, text for people.",
               environment: "RECORDONCE_LOG_FORMAT", default: "json", choices: ["json", "text"]),
        Option("log-level", value: "LEVEL", help: "Least severe level logged.",
               environment: "RECORDONCE_LOG_LEVEL", default: "info", choices: ["debug", "info", "warning", "error"]),
    ]

    static let server: [Option] = [
        Option("host", value: "ADDRESS", help: "Address to listen on (0.0.0.0 for every interface).",
               environment: "RECORDONCE_HOST", default: "127.0.0.1"),
        Option("port", value: "N", help: "HTTP port.", environment: "RECORDONCE_PORT", default: "8080"),
    ]

    /// The pull scheduler (serve, demo).
    static let adapters: [Option] = [
        Option("pulls", value: "MODE", help: "Run pull adapters in this process (off: API and pushes only).",
               environment: "RECORDONCE_PULLS", default: "on", choices: ["on", "off"]),
        Option("pull-lease", value: "SECONDS", help: "How long a pull run is reserved to this process (renewed while it runs); "
               + "another hub takes an adapter over this long after the process running it died.",
               environment: "RECORDONCE_PULL_LEASE", default: "30"),
    ]

    /// The change feed (serve).
    static let feed: [Option] = [
        Option("audit-retention-days", value: "DAYS", help: "How long disclosure audit entries are kept before the hourly purge removes them.",
               environment: "RECORDONCE_AUDIT_RETENTION_DAYS", default: "1096"),
        Option("webhook-disable-after", value: "HOURS", help: "A webhook subscription failing without a success for this long is disabled.",
               environment: "RECORDONCE_WEBHOOK_DISABLE_AFTER", default: "24"),
    ]

    static func logger(_ args: ParsedArguments, label: String = "hub") -> Logger {
        Logger(label: label, level: LogLevel(name: args.value("log-level") ?? "info") ?? .info,
               format: LogFormat(rawValue: args.value("log-format") ?? "json") ?? .json)
    }

    /// The hub configuration these options describe.
    static func configuration(_ args: ParsedArguments) throws -> HubConfiguration {
        var config = HubConfiguration()
        config.databaseURL = args.value("database-url")
        config.dataDirectory = args.value("data-dir") ?? "./var"
        config.adminToken = ProcessInfo.processInfo.environment["RECORDONCE_ADMIN_TOKEN"]
        if let dir = args.value("catalog") { config.catalogDirectory = dir }
        if let dir = args.value("mappings") { config.mappingsDirectory = dir }
        if let dir = args.value("adapters") { config.adaptersDirectory = dir }
        if let host = args.value("host") { config.host = host }
        config.runsAdapterScheduler = args.value("pulls") != "off"
        config.acceptCatalogChanges = args.flag("accept-catalog-changes")
        if let lease = args.value("pull-lease") {
            guard let seconds = Double(lease), seconds >= 1, seconds <= 3600 else {
                throw UsageError("--pull-lease must be a number of seconds between 1 and 3600, got \(lease)")
            }
            config.scheduler.leaseSeconds = seconds
        }
        if let days = try args.int("audit-retention-days") {
            guard (1...36_500).contains(days) else { throw UsageError("--audit-retention-days must be between 1 and 36500, got \(days)") }
            config.feed.auditRetentionDays = days
        }
        if let text = args.value("webhook-disable-after") {
            guard let hours = Double(text), hours > 0, hours <= 24 * 365 else {
                throw UsageError("--webhook-disable-after must be a number of hours above 0 (at most 8760), got \(text)")
            }
            config.feed.webhooks.disableAfterFailingFor = hours * 3600
        }
        if let port = try args.int("port") {
            guard (0...65535).contains(port) else { throw UsageError("--port must be between 0 and 65535, got \(port)") }
            config.port = port
        }
        return config
    }
}

/// Blocks until SIGINT or SIGTERM arrives, then returns its name.
enum ShutdownSignal {
    static func wait() -> String {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let received = DispatchSemaphore(value: 0)
        let name = LockedName()
        let queue = DispatchQueue(label: "signals")
        let sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { signo, label in
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler {
                name.set(label)
                received.signal()
            }
            source.resume()
            return source
        }
        received.wait()
        sources.forEach { $0.cancel() }
        return name.get()
    }

    private final class LockedName: @unchecked Sendable {
        private var value = ""
        private let lock = NSLock()
        func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
        func get() -> String { lock.lock(); defer { lock.unlock() }; return value }
    }
}
