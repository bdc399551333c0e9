import Foundation
import Telemetry

/// Watches the embedded cluster's postmaster and starts it again when it dies under a running hub.
///
/// A thread checks the postmaster's process twice a second (no subprocess, no connection). When it
/// is gone (kill -9, out-of-memory killer, a crash) the supervisor logs an error, counts the crash,
/// and runs `pg_ctl start` with exponential backoff until the server accepts connections again;
/// PostgreSQL's crash recovery replays the write-ahead log, so every committed transaction is
/// kept. Then `onRecovered` runs (the hub drops the pool's idle connections, which point at the
/// dead server) and readiness returns. Only the process that owns the cluster supervises it.
public final class EmbeddedPostgresSupervisor: @unchecked Sendable {
    /// What /readyz reports about the embedded cluster.
    public enum State: Sendable, Equatable {
        case up
        /// The postmaster died; `attempts` restarts have failed so far.
        case restarting(attempts: Int)
    }

    public struct Settings: Sendable {
        /// How often the postmaster's process is checked, in seconds.
        public var checkInterval: Double = 0.5
        /// Delay after the first failed restart; doubles per failure up to `maxBackoff`.
        public var initialBackoff: Double = 0.5
        public var maxBackoff: Double = 30
        public init() {}
    }

    private let database: EmbeddedPostgres
    private let settings: Settings
    private let logger: Logger
    private let onRecovered: @Sendable () -> Void
    private let crashes: Counter
    private let restarts: Counter
    private let condition = NSCondition()
    private var running = false
    private var currentState = State.up
    private var thread: Thread?

    public init(database: EmbeddedPostgres, settings: Settings = Settings(), logger: Logger, metrics: MetricsRegistry,
                onRecovered: @escaping @Sendable () -> Void = {}) {
        self.database = database
        self.settings = settings
        self.logger = logger
        self.onRecovered = onRecovered
        crashes = metrics.counter("recordonce_embedded_database_crashes_total",
                                  help: "Times the embedded PostgreSQL's postmaster was found dead under the running hub.")
        restarts = metrics.counter("recordonce_embedded_database_restarts_total",
                                   help: "Restarts of the embedded PostgreSQL after a crash, by outcome.", labels: ["outcome"])
        metrics.gauge("recordonce_embedded_database_up", help: "1 while the embedded PostgreSQL runs, 0 while it is being restarted.") { [weak self] in
            [([], self?.state == .up ? 1 : 0)]
        }
    }

    public var state: State { condition.withLock { currentState } }

    public func start() {
        condition.withLock { running = true }
        let thread = Thread { [self] in watch() }
        thread.name = "postgres-supervisor"
        self.thread = thread
        thread.start()
    }

    /// Stops watching (before the hub stops the cluster, so a shutdown is not taken for a crash).
    public func stop() {
        condition.withLock {
            running = false
            condition.broadcast()
        }
    }

    private var isRunning: Bool { condition.withLock { running } }

    /// Sleeps up to `seconds`; false when stopped meanwhile.
    private func pause(_ seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while running && Date() < deadline { _ = condition.wait(until: deadline) }
        return running
    }

    private func watch() {
        while pause(settings.checkInterval) {
            guard database.hasCrashed else { continue }
            recover()
        }
    }

    private func recover() {
        let since = Date()
        crashes.increment()
        logger.error("embedded PostgreSQL stopped unexpectedly; restarting it (crash recovery keeps every committed transaction)")
        condition.withLock { currentState = .restarting(attempts: 0) }
        var attempts = 0
        var backoff = settings.initialBackoff
        while isRunning {
            do {
                try database.restartAfterCrash()
                restarts.increment(["succeeded"])
                condition.withLock { currentState = .up }
                onRecovered()
                logger.info("embedded PostgreSQL is back after a crash", [
                    "failed_attempts": String(attempts),
                    "downtime_seconds": String(format: "%.1f", Date().timeIntervalSince(since)),
                ])
                return
            } catch {
                attempts += 1
                restarts.increment(["failed"])
                condition.withLock { currentState = .restarting(attempts: attempts) }
                logger.warning("embedded PostgreSQL did not start yet; retrying", [
                    "attempt": String(attempts), "retry_in_seconds": String(format: "%.1f", backoff),
                    "error": String(describing: error),
                ])
                guard pause(backoff) else { return }
                backoff = min(settings.maxBackoff, backoff * 2)
            }
        }
    }
}
