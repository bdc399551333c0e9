import Foundation
import Store
import Telemetry

/// Settings of the pull scheduler of one hub process.
public struct SchedulerConfiguration: Sendable {
    /// This process's name in leases (host, pid and a random part by default).
    public var owner: String = SchedulerConfiguration.defaultOwner()
    /// How long a claimed run is reserved to this process; renewed every third of it while the run
    /// lasts. Another process takes an adapter over this long after its runner died.
    public var leaseSeconds: Double = 30
    /// How often the scheduler looks for due adapters (a run-now request wakes it at once).
    public var tickSeconds: Double = 1
    /// Pull runs at the same time in this process.
    public var maxConcurrentRuns: Int = 4
    public var backoff = Backoff()
    public var runner = PullRunner()
    /// Relative paths in settings and file secrets resolve against this folder (the adapters folder).
    public var baseDirectory: String = "adapters"
    /// The pull kinds this process can run.
    public var kinds: [any PullKind.Type] = PullKinds.all
    /// Where `{ env: NAME }` secrets are read.
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    public init() {}

    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}

/// Runs every pull adapter on its interval, in whichever hub process claims it first.
///
/// A loop thread claims due adapters with leases in PostgreSQL (`AdapterRunStore.claimDue`),
/// runs each on its own thread, and renews the leases of its runs; a run whose lease could not be
/// renewed (the adapter was paused, changed or removed, or another process took it over) stops
/// after its current page. Failures are classified (`PullFailure`): retriable ones back off
/// exponentially with jitter in state degraded, permanent ones leave the adapter failing until an
/// admin acts. Nothing a department sends can stop the loop or another adapter's run.
///
/// Locking: `condition` guards `stopping`, `wakeRequested` and `active`.
public final class AdapterScheduler: @unchecked Sendable {
    public let store: AdapterRunStore
    public let configuration: SchedulerConfiguration
    let sink: any PulledPageSink
    let logger: Logger
    let runsCounter: Counter?

    private let condition = NSCondition()
    private var stopping = false
    private var started = false
    private var loopEnded = true
    private var wakeRequested = false
    private var active: [String: RunHandle] = [:]

    public init(store: AdapterRunStore, sink: any PulledPageSink, configuration: SchedulerConfiguration,
                logger: Logger, metrics: MetricsRegistry? = nil) {
        self.store = store
        self.sink = sink
        self.configuration = configuration
        self.logger = logger
        runsCounter = metrics?.counter("recordonce_adapter_runs_total", help: "Pull runs by this process, by adapter and result.",
                                       labels: ["adapter", "result"])
    }

    /// Starts the loop thread.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        loopEnded = false
        let thread = Thread { [self] in loop() }
        thread.name = "adapter-scheduler"
        thread.start()
        logger.info("adapter scheduler started", ["owner": configuration.owner])
    }

    /// Stops claiming, asks running pulls to stop after their current page, and waits up to
    /// `timeout` seconds for them; their leases are released so another process can continue.
    public func stop(timeout: Double = 10) {
        condition.lock()
        guard started else { condition.unlock(); return }
        stopping = true
        active.values.forEach { $0.cancel() }
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while (!active.isEmpty || !loopEnded) && condition.wait(until: deadline) {}
        let left = active.keys.sorted()
        condition.unlock()
        if !left.isEmpty { logger.warning("pull runs still busy at stop; their leases will expire", ["adapters": left.joined(separator: ",")]) }
    }

    /// Looks for due adapters now (after a run-now request or a registration).
    public func wake() {
        condition.lock()
        wakeRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Adapters this process is pulling now.
    public var runningAdapters: [String] {
        condition.lock()
        defer { condition.unlock() }
        return active.keys.sorted()
    }

    private func loop() {
        var lastRenewal = Date()
        var databaseWarning = ThrottledWarning()
        while true {
            condition.lock()
            if stopping {
                loopEnded = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let free = configuration.maxConcurrentRuns - active.count
            condition.unlock()

            if free > 0 {
                do {
                    let asked = Date()
                    for claim in try store.claimDue(owner: configuration.owner, leaseSeconds: configuration.leaseSeconds, limit: free) {
                        launch(claim, leaseFrom: asked)
                    }
                } catch {
                    // The database is down or restarting: say so once a minute, not every tick.
                    if databaseWarning.shouldLog(String(describing: error)) { logger.warning("cannot claim adapter runs: \(error)") }
                }
            }
            if Date().timeIntervalSince(lastRenewal) >= configuration.leaseSeconds / 3 {
                renewLeases()
                lastRenewal = Date()
            }

            condition.lock()
            if !wakeRequested && !stopping {
                _ = condition.wait(until: Date().addingTimeInterval(min(configuration.tickSeconds, configuration.leaseSeconds / 3)))
            }
            wakeRequested = false
            condition.unlock()
        }
    }

    private func launch(_ claim: AdapterRunStore.Claim, leaseFrom asked: Date) {
        let handle = RunHandle(revision: claim.revision, leaseUntil: asked.addingTimeInterval(configuration.leaseSeconds * 0.9))
        condition.lock()
        active[claim.id] = handle
        condition.unlock()
        let thread = Thread { [self] in
            execute(claim, handle: handle)
            condition.lock()
            active[claim.id] = nil
            wakeRequested = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "pull-\(claim.id)"
        thread.start()
    }

    private func renewLeases() {
        condition.lock()
        let held = active
        condition.unlock()
        guard !held.isEmpty else { return }
        do {
            let asked = Date()
            let kept = try store.renew(owner: configuration.owner, held: held.mapValues(\.revision), leaseSeconds: configuration.leaseSeconds)
            for (id, handle) in held where kept.contains(id) {
                handle.extendLease(until: asked.addingTimeInterval(configuration.leaseSeconds * 0.9))
            }
            for (id, handle) in held where !kept.contains(id) {
                logger.info("pull run stops: the adapter was paused, changed or taken over", ["adapter": id])
                handle.cancel()
            }
        } catch {
            logger.warning("cannot renew adapter leases: \(error)")
        }
    }

    /// One run, start to end; never throws.
    func execute(_ claim: AdapterRunStore.Claim, handle: RunHandle) {
        let log = logger.child(label: nil, ["adapter": claim.id])
        var counts = PageCounts()
        let end: AdapterRunStore.RunEnd
        switch prepare(claim) {
        case .failure(let failure):
            end = classify(failure, claim: claim)
        case .success(let (source, every)):
            let checkpoint: String?
            do {
                checkpoint = try store.checkpoint(id: claim.id)
            } catch {
                finish(claim, counts: counts, end: .retrying(reason: "cannot read the checkpoint: \(error)",
                                                              delay: configuration.backoff.delay(failures: claim.failures + 1)), log: log)
                return
            }
            // Counters move page by page (a long first run shows progress), not at the end.
            let result = configuration.runner.run(source: source, adapterID: claim.id, checkpoint: checkpoint, sink: sink,
                                                  shouldContinue: { !handle.isCancelled },
                                                  pageStored: { [store] in try? store.addCounts(id: claim.id, counts: $0) })
            counts = PageCounts()
            if let failure = result.failure {
                end = classify(failure, claim: claim)
            } else if result.interrupted {
                end = .interrupted
            } else {
                end = .succeeded(caughtUp: result.caughtUp, every: every)
            }
            if result.pages > 0 {
                log.info("pulled", ["pages": String(result.pages), "records": String(result.counts.records),
                                    "accepted": String(result.counts.accepted), "rejected": String(result.counts.rejected)])
            }
        }
        finish(claim, counts: counts, end: end, log: log)
    }

    private func prepare(_ claim: AdapterRunStore.Claim) -> Result<(any PullSource, Double), PullFailure> {
        let file = claim.file ?? "adapter \(claim.id)"
        let declaration: AdapterDeclaration
        switch AdapterDeclarations.parse(Array(claim.declaration.utf8), file: file, kinds: configuration.kinds) {
        case .success(let parsed): declaration = parsed
        case .failure(let error):
            return .failure(PullFailure(.permanent, "the declaration does not validate in this hub: \(error.problems.first.map(\.description) ?? "")"))
        }
        guard let pull = declaration.pull, let kind = PullKinds.named(pull.kind, in: configuration.kinds) else {
            return .failure(PullFailure(.permanent, "no pull kind in the declaration that this hub knows"))
        }
        let base = configuration.baseDirectory
        let environment = configuration.environment
        let context = PullContext(adapterID: claim.id, baseDirectory: base) { reference in
            try reference.resolveText(relativeTo: base, environment: environment)
        }
        do {
            return .success((try kind.makeSource(pull.settings, context: context), pull.every))
        } catch {
            return .failure(error)
        }
    }

    private func classify(_ failure: PullFailure, claim: AdapterRunStore.Claim) -> AdapterRunStore.RunEnd {
        switch failure.kind {
        case .retriable:
            .retrying(reason: failure.message, delay: configuration.backoff.delay(failures: claim.failures + 1, retryAfter: failure.retryAfter))
        case .permanent:
            .failed(reason: failure.message)
        }
    }

    private func finish(_ claim: AdapterRunStore.Claim, counts: PageCounts, end: AdapterRunStore.RunEnd, log: Logger) {
        let result: String
        switch end {
        case .succeeded: result = "succeeded"
        case .retrying(let reason, let delay):
            result = "retrying"
            log.warning("pull failed, retrying: \(reason)", ["retry_in_seconds": String(format: "%.1f", delay)])
        case .failed(let reason):
            result = "failed"
            log.error("pull failed permanently; the adapter is failing until an admin acts: \(reason)")
        case .interrupted: result = "interrupted"
        }
        runsCounter?.increment([claim.id, result])
        do {
            try store.finish(id: claim.id, owner: configuration.owner, revision: claim.revision, counts: counts, end: end)
        } catch {
            log.warning("cannot record the end of a pull run (its lease will expire): \(error)")
        }
    }
}

/// Lets a repeated warning through when it changes or once a minute.
struct ThrottledWarning {
    private var last: (message: String, at: Date)?

    mutating func shouldLog(_ message: String, interval: Double = 60, now: Date = Date()) -> Bool {
        if let last, last.message == message, now.timeIntervalSince(last.at) < interval { return false }
        last = (message, now)
        return true
    }
}

/// A run's stop flag, read between pages: set by `stop()` or a lost lease, and also true once the
/// lease may have run out without a confirmed renewal (a starved process or a slow database), so
/// a run stops on its own before another process can claim the adapter, instead of beside it.
final class RunHandle: @unchecked Sendable {
    /// The declaration revision the run started with.
    let revision: Int64
    private let lock = NSLock()
    private var cancelled = false
    /// Until when the lease is surely ours: measured from before the claim or renewal was asked
    /// for, less a tenth of the lease for clock differences with the database.
    private var leaseUntil: Date
    init(revision: Int64, leaseUntil: Date) {
        self.revision = revision
        self.leaseUntil = leaseUntil
    }
    func cancel() { lock.withLock { cancelled = true } }
    func extendLease(until date: Date) { lock.withLock { leaseUntil = max(leaseUntil, date) } }
    var isCancelled: Bool { lock.withLock { cancelled || Date() >= leaseUntil } }
}
