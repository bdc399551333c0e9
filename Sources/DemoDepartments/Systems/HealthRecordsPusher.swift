import Foundation
import HTTPClient
import Telemetry

/// The health records system (居民健康档案系统), which pushes: it POSTs its records as a JSON
/// array to the hub's `POST /v1/ingest/health-records` with its bearer token, first every record,
/// then each record that changes (batches of 500, back to back while a backlog remains, then
/// every `interval` seconds). Records that could not be delivered (hub not up yet, 5xx,
/// refused) stay queued and are sent again after a pause that doubles up to 30 s.
public final class HealthRecordsPusher: @unchecked Sendable {
    /// The health records, keyed by person index.
    public let table: ChangeStampedTable
    let target: String?
    let token: String?
    let interval: Double
    let batchSize: Int
    let logger: Logger
    private let lock = NSLock()
    private let wake = NSCondition()
    private var queue: [String] = []
    /// Per queued key, how often it was queued: a change during a push keeps it queued.
    private var queued: [String: Int] = [:]
    private var stopping = false
    private var thread: Thread?
    private var counters = (batches: 0, records: 0, failures: 0)
    private var lastError: String?

    init(table: ChangeStampedTable, target: String?, token: String?, interval: Double, batchSize: Int = 500, logger: Logger) {
        self.table = table
        self.target = target
        self.token = token
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Records sent and accepted by the hub, batches, failed attempts, and the last failure.
    public var status: (records: Int, batches: Int, failures: Int, lastError: String?) {
        lock.withLock { (counters.records, counters.batches, counters.failures, lastError) }
    }

    /// Records waiting to be pushed.
    public var pending: Int { lock.withLock { queue.count } }

    /// Queues a record for the next push.
    func enqueue(_ key: String) {
        lock.withLock {
            if queued[key] == nil { queue.append(key) }
            queued[key, default: 0] += 1
        }
    }

    func start() {
        guard target != nil else { return }
        let thread = Thread { [self] in run() }
        thread.name = "demo-health-pusher"
        self.thread = thread
        thread.start()
    }

    func stop() {
        wake.lock()
        stopping = true
        wake.broadcast()
        wake.unlock()
    }

    private func run() {
        var pause = interval
        while true {
            wake.lock()
            if !stopping { _ = wake.wait(until: Date(timeIntervalSinceNow: pause)) }
            let done = stopping
            wake.unlock()
            if done { return }
            // While a backlog remains (the first push of every record), batches follow each other.
            pause = pushOnce() ? (pending > 0 ? 0 : interval) : min(30, max(pause * 2, 1))
        }
    }

    /// Sends one batch; false when the hub did not take it.
    @discardableResult
    func pushOnce() -> Bool {
        guard let target else { return true }
        let (keys, generations): ([String], [Int]) = lock.withLock { let keys = Array(queue.prefix(batchSize)); return (keys, keys.map { queued[$0] ?? 0 }) }
        guard !keys.isEmpty else { return true }
        var body: [UInt8] = [UInt8(ascii: "[")]
        var sent = 0
        for key in keys {
            guard let record = table.record(key) else { continue }
            if sent > 0 { body.append(UInt8(ascii: ",")) }
            RecordEncoding.appendJSON(record.fields, to: &body)
            sent += 1
        }
        body.append(UInt8(ascii: "]"))
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        let request = HTTPClientRequest(method: "POST", url: target, headers: headers, body: body, timeout: 60, connectTimeout: 5)
        var failure: String?
        do {
            let response = try HTTPClient().send(request)
            if response.status != 200 { failure = "hub answered HTTP \(response.status)" }
        } catch {
            failure = "\(error)"
        }
        lock.withLock {
            if let failure {
                counters.failures += 1
                lastError = failure
            } else {
                counters.batches += 1
                counters.records += sent
                queue.removeFirst(keys.count)
                for (key, generation) in zip(keys, generations) {
                    if queued[key] == generation { queued[key] = nil } else { queue.append(key) }
                }
            }
        }
        if let failure { logger.debug("health records push failed; will retry", ["reason": failure]) }
        return failure == nil
    }
}
