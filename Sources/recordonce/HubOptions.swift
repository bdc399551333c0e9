import CLIKit
import Foundation
import HTTP
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
        Option("tls-cert", value: "FILE", help: "Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key. "
               + "SIGHUP reloads both files without a restart.", environment: "RECORDONCE_TLS_CERT"),
        Option("tls-key", value: "FILE", help: "The certificate's PEM private key (unencrypted, readable by the service only).",
               environment: "RECORDONCE_TLS_KEY"),
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
        Option("feed-database-url", value: "URL", help: "A streaming replica of the database that this process's feed reads from "
               + "(pull pages, SSE, snapshots); writes, the audit log included, still go to --database-url.",
               environment: "RECORDONCE_FEED_DATABASE_URL"),
        Option("audit-retention-days", value: "DAYS", help: "How long disclosure audit entries are kept before the hourly purge removes them.",
               environment: "RECORDONCE_AUDIT_RETENTION_DAYS", default: "1096"),
        Option("webhook-disable-after", value: "HOURS", help: "A webhook subscription failing without a success for this long is disabled.",
               environment: "RECORDONCE_WEBHOOK_DISABLE_AFTER", default: "24"),
    ]

    static func logger(_ args: ParsedArguments, label: String = "hub") -> Logger {
        Logger(label: label, level: LogLevel(name: args.value("log-level") ?? "info") ?? .info,
               format: LogFormat(rawValue: args.value("log-format") ?? "json") ?? .json)
    }

    /// The hub configuration these options describe. Every invalid value is reported at once,
    /// each with where it came from (option, environment variable or file:line).
    static func configuration(_ args: ParsedArguments) throws -> HubConfiguration {
        var config = HubConfiguration()
        var problems: [String] = []
        func problem(_ name: String, _ message: String) { problems.append("\(args.origin(name)): \(message)") }
        config.databaseURL = args.value("database-url")
        config.feedDatabaseURL = args.value("feed-database-url")
        if config.feedDatabaseURL != nil && config.databaseURL == nil {
            problem("feed-database-url", "needs database-url too: a replica of the embedded cluster is not supported")
        }
        config.dataDirectory = args.value("data-dir") ?? "./var"
        config.adminToken = ProcessInfo.processInfo.environment["RECORDONCE_ADMIN_TOKEN"]
        if let dir = args.value("catalog") { config.catalogDirectory = dir }
        if let dir = args.value("mappings") { config.mappingsDirectory = dir }
        if let dir = args.value("adapters") { config.adaptersDirectory = dir }
        if let host = args.value("host") { config.host = host }
        switch (args.value("tls-cert"), args.value("tls-key")) {
        case (nil, nil): break
        case let (certificate?, key?): config.tls = TLSFiles(certificateFile: certificate, keyFile: key)
        case (nil, _?): problem("tls-key", "needs tls-cert too (the certificate the key belongs to)")
        case (_?, nil): problem("tls-cert", "needs tls-key too (the certificate's private key)")
        }
        // Values from the environment or a file are checked here; options were checked while parsing.
        for option in args.declaredOptions {
            if let choices = option.choices, let value = args.value(option.name), !choices.contains(value) {
                problem(option.name, "must be one of \(choices.joined(separator: ", ")), got '\(value)'")
            }
        }
        config.runsAdapterScheduler = args.value("pulls") != "off"
        config.acceptCatalogChanges = args.flag("accept-catalog-changes")
        if let lease = args.value("pull-lease") {
            if let seconds = Double(lease), seconds >= 1, seconds <= 3600 {
                config.scheduler.leaseSeconds = seconds
            } else {
                problem("pull-lease", "must be a number of seconds between 1 and 3600, got \(lease)")
            }
        }
        if let text = args.value("audit-retention-days") {
            if let days = Int(text), (1...36_500).contains(days) {
                config.feed.auditRetentionDays = days
            } else {
                problem("audit-retention-days", "must be a whole number of days between 1 and 36500, got \(text)")
            }
        }
        if let text = args.value("webhook-disable-after") {
            if let hours = Double(text), hours > 0, hours <= 24 * 365 {
                config.feed.webhooks.disableAfterFailingFor = hours * 3600
            } else {
                problem("webhook-disable-after", "must be a number of hours above 0 (at most 8760), got \(text)")
            }
        }
        if let text = args.value("port") {
            if let port = Int(text), (0...65535).contains(port) {
                config.port = port
            } else {
                problem("port", "must be a whole number between 0 and 65535, got \(text)")
            }
        }
        guard problems.isEmpty else { throw UsageError(problems.joined(separator: "\n")) }
        return config
    }
}

/// Blocks until SIGINT or SIGTERM arrives, then returns its name. SIGHUP meanwhile calls `reload`
/// (the serve command reloads the TLS certificates) and keeps waiting.
enum ShutdownSignal {
    static func wait(reload: @escaping @Sendable () -> Void = {}) -> String {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
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
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler { reload() }
        hangup.resume()
        received.wait()
        sources.forEach { $0.cancel() }
        hangup.cancel()
        return name.get()
    }

    private final class LockedName: @unchecked Sendable {
        private var value = ""
        private let lock = NSLock()
        func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
        func get() -> String { lock.lock(); defer { lock.unlock() }; return value }
    }
}
