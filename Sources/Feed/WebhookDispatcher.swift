import Foundation
import HTTPClient
import Secrets
import Store
import Telemetry

/// Settings of webhook delivery.
public struct WebhookSettings: Sendable {
    /// How long a claim on a subscription lasts without being renewed, in seconds.
    public var leaseSeconds: Double = 30
    /// A subscription failing for longer than this is disabled, in seconds (default one day).
    public var disableAfterFailingFor: Double = 24 * 3600
    /// First retry delay; doubles per attempt up to `maxBackoff`, with ±50 % jitter.
    public var initialBackoff: Double = 1
    public var maxBackoff: Double = 300
    /// Per-request timeout, in seconds.
    public var requestTimeout: Double = 10
    /// Delivery threads in this process (each serves one subscription at a time).
    public var workers: Int = 2
    /// Events read per claim before the lease is given back so others get their turn.
    public var eventsPerClaim: Int = 500

    public init() {}
}

/// Posts each webhook subscription's events to its URL, in order, one at a time (the next
/// waits for a 2xx), signed per Standard Webhooks.
///
/// Work is claimed in PostgreSQL: a worker takes a subscription's row in `webhook_deliveries`
/// with `FOR UPDATE SKIP LOCKED` and a lease (`lease_owner`, `lease_until`), renews it with every
/// acknowledged event, and gives it back when done or failing; any number of hub processes can
/// run dispatchers and a subscription is never delivered by two at once. A failure schedules
/// the next attempt with exponential backoff and jitter; 410 Gone, or failing for longer than
/// `disableAfterFailingFor`, disables the subscription (an admin resumes it with
/// `PUT {"status":"active"}`).
public final class WebhookDispatcher: @unchecked Sendable {
    let reader: FeedReader
    let notifier: ChangeNotifier
    let settings: WebhookSettings
    let logger: Logger
    let client = HTTPClient(maximumResponseBytes: 64 << 10)
    /// This process's name in `lease_owner`.
    public let owner = "hub-\(getpid())-" + Secrets.hex(Secrets.randomBytes(4))
    private let condition = NSCondition()
    private var running = false
    private var wakeups = 0
    private var observer: Int?
    private var threads: [Thread] = []
    private var active = 0

    public init(reader: FeedReader, notifier: ChangeNotifier, settings: WebhookSettings = WebhookSettings(), logger: Logger) {
        self.reader = reader
        self.notifier = notifier
        self.settings = settings
        self.logger = logger
    }

    public func start() {
        condition.withLock { running = true }
        observer = notifier.observe { [weak self] _ in self?.wake() }
        for i in 0..<max(1, settings.workers) {
            let t = Thread { [self] in work() }
            t.name = "webhook-\(i)"
            threads.append(t)
            t.start()
        }
    }

    /// Stops claiming; a delivery in flight finishes (bounded by the request timeout).
    public func stop() {
        if let observer { notifier.removeObserver(observer) }
        condition.withLock {
            running = false
            condition.broadcast()
        }
        let deadline = Date().addingTimeInterval(settings.requestTimeout + 1)
        condition.lock()
        while active > 0 && Date() < deadline { _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05))) }
        condition.unlock()
    }

    /// Wakes idle workers (new events, or a subscription was changed).
    public func wake() {
        condition.withLock {
            wakeups += 1
            condition.broadcast()
        }
    }

    private var isRunning: Bool { condition.withLock { running } }

    private func work() {
        condition.withLock { active += 1 }
        defer { condition.withLock { active -= 1; condition.broadcast() } }
        while isRunning {
            let seen = condition.withLock { wakeups }
            var didWork = false
            do {
                didWork = try deliverOne()
            } catch {
                logger.warning("webhook dispatch failed; retrying", ["error": String(describing: error)])
            }
            if didWork { continue }
            // Idle: sleep until new events, or at most a second for retry schedules coming due.
            condition.lock()
            if running && wakeups == seen { _ = condition.wait(until: Date().addingTimeInterval(1)) }
            condition.unlock()
        }
    }

    struct Claim {
        let subscriptionID: String
        var position: Int64
        let attempts: Int
        let failingSince: Date?
    }

    /// Claims one due subscription and delivers what it can. False when nothing was due.
    func deliverOne() throws -> Bool {
        let head = notifier.head
        guard let claim = try claim(head: head) else { return false }
        defer { try? release(claim.subscriptionID) }
        guard let subscription = try reader.subscriptions.get(claim.subscriptionID), subscription.status == .active else { return true }
        let projector = reader.projector(for: subscription)
        let page = try reader.page(projector, after: claim.position, limit: settings.eventsPerClaim)
        for event in page.events {
            guard isRunning else { return true }
            try reader.audit([event], projector, channel: .webhook)
            let outcome = send(event, subscription)
            switch outcome {
            case .delivered:
                guard try acknowledge(claim.subscriptionID, position: event.position) else { return true }
            case .gone(let status):
                try disable(claim.subscriptionID, status: status, error: "the endpoint answered 410 Gone")
                return true
            case .failed(let status, let message):
                try fail(claim, status: status, error: message)
                return true
            }
        }
        // Filtered-out events after the last delivered one are passed over too.
        _ = try acknowledge(claim.subscriptionID, position: page.next)
        return true
    }

    enum Outcome {
        case delivered
        case gone(Int)
        case failed(Int?, String)
    }

    func send(_ event: ProjectedEvent, _ subscription: Subscription) -> Outcome {
        let body = Array(event.json.utf8)
        let id = subscription.id + "-" + String(event.position)
        let timestamp = Int64(Date().timeIntervalSince1970)
        var headers = WebhookSigner.headers(id: id, timestamp: timestamp, body: body, secrets: subscription.spec.delivery?.secrets ?? [])
        headers.append(("Content-Type", "application/json"))
        var request = HTTPClientRequest(method: "POST", url: subscription.spec.delivery?.url ?? "", headers: headers, body: body,
                                        timeout: settings.requestTimeout, connectTimeout: min(5, settings.requestTimeout))
        // The endpoint's certificate is verified (HTTPClient never turns verification off): against
        // the subscription's own CA bundle when it names one, else the system trust store.
        request.certificateAuthorityFile = subscription.spec.delivery?.caFile
        do {
            let response = try client.send(request)
            if (200..<300).contains(response.status) { return .delivered }
            if response.status == 410 { return .gone(410) }
            return .failed(response.status, "the endpoint answered \(response.status)")
        } catch {
            return .failed(nil, String(describing: error))
        }
    }

    private func claim(head: Int64) throws -> Claim? {
        try reader.pool.withConnection { c in
            try c.query("""
                UPDATE webhook_deliveries d SET lease_owner = $1, lease_until = now() + make_interval(secs => $2), updated_at = now()
                WHERE d.subscription_id = (
                    SELECT w.subscription_id FROM webhook_deliveries w JOIN subscriptions s ON s.id = w.subscription_id
                    WHERE s.status = 'active' AND w.next_attempt_at <= now() AND w.position < $3
                      AND (w.lease_until IS NULL OR w.lease_until < now())
                    ORDER BY w.next_attempt_at LIMIT 1 FOR UPDATE OF w SKIP LOCKED)
                RETURNING d.subscription_id, d.position, d.attempts, d.failing_since
                """, [owner, settings.leaseSeconds, head]).first.map { row in
                Claim(subscriptionID: try row.decode(String.self, "subscription_id"), position: try row.decode(Int64.self, "position"),
                      attempts: try row.decode(Int.self, "attempts"), failingSince: try row.decodeIfPresent(Date.self, "failing_since"))
            }
        }
    }

    /// Moves the position on and renews the lease; false when the lease was lost to another process.
    private func acknowledge(_ id: String, position: Int64) throws -> Bool {
        try reader.pool.withConnection { c in
            try c.execute("""
                UPDATE webhook_deliveries SET position = GREATEST(position, $3), attempts = 0, failing_since = NULL, last_status = NULL,
                       last_error = NULL, lease_until = now() + make_interval(secs => $4), updated_at = now()
                WHERE subscription_id = $1 AND lease_owner = $2
                """, [id, owner, position, settings.leaseSeconds]) == 1
        }
    }

    private func release(_ id: String) throws {
        _ = try reader.pool.withConnection { c in
            try c.execute("UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL WHERE subscription_id = $1 AND lease_owner = $2",
                          [id, owner])
        }
    }

    /// The delay before attempt `attempts + 1`: exponential, capped, ±50 % jitter.
    public static func backoff(attempts: Int, settings: WebhookSettings) -> Double {
        let base = min(settings.maxBackoff, settings.initialBackoff * pow(2, Double(min(attempts, 30))))
        return base * Double.random(in: 0.5...1.5)
    }

    private func fail(_ claim: Claim, status: Int?, error: String) throws {
        let since = claim.failingSince ?? Date()
        if Date().timeIntervalSince(since) > settings.disableAfterFailingFor {
            try disable(claim.subscriptionID, status: status, error: "failing since \(Timestamp.iso8601(since)): \(error)")
            return
        }
        let delay = Self.backoff(attempts: claim.attempts, settings: settings)
        _ = try reader.pool.withConnection { c in
            try c.execute("""
                UPDATE webhook_deliveries SET attempts = attempts + 1, failing_since = COALESCE(failing_since, now()),
                       next_attempt_at = now() + make_interval(secs => $2), last_status = $3, last_error = $4, updated_at = now()
                WHERE subscription_id = $1
                """, [claim.subscriptionID, delay, status, error])
        }
        logger.warning("webhook delivery failed", ["subscription": claim.subscriptionID, "error": error,
                                                   "retry_in_seconds": String(format: "%.1f", delay)])
    }

    private func disable(_ id: String, status: Int?, error: String) throws {
        try reader.pool.transaction { c in
            try c.execute("UPDATE subscriptions SET status = 'disabled', updated_at = now() WHERE id = $1 AND status = 'active'", [id])
            try c.execute("UPDATE webhook_deliveries SET last_status = $2, last_error = $3, updated_at = now() WHERE subscription_id = $1",
                          [id, status, error])
        }
        logger.warning("webhook subscription disabled", ["subscription": id, "reason": error])
    }
}
