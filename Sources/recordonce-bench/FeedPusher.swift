import Foundation

/// Pushes generated police register records to `POST /v1/ingest/police-hukou` at a steady rate,
/// one batch at a time (never two requests in flight), and remembers when each push was
/// accepted and how many change events it added.
///
/// Because pushes never overlap and nothing else writes to the hub, the change log positions
/// of push k are the `events` of push k following those of push k-1: a delivered event's
/// position names the push it came from (`push(containing:)`).
final class FeedPusher: @unchecked Sendable {
    /// One accepted push.
    struct Push {
        /// Monotonic time (ns) the push's 200 answer was read.
        let acceptedNanoseconds: UInt64
        /// Events appended by this and every earlier push.
        let cumulativeEvents: Int64
        /// Microseconds from sending the request to reading its answer.
        let roundTripMicroseconds: Int64
    }

    let hub: FeedBenchHub
    let batch: Int
    let interval: Double
    private let lock = NSLock()
    private var pushes: [Push] = []
    private var records = 0
    private var failure: String?
    private var stopRequested = false
    private var done = false
    private let finished = DispatchSemaphore(value: 0)

    /// `recordsPerSecond` records in batches of `batch` (one request every batch/rate seconds).
    init(hub: FeedBenchHub, recordsPerSecond: Int, batch: Int) {
        self.hub = hub
        self.batch = batch
        interval = Double(batch) / Double(recordsPerSecond)
    }

    /// Starts pushing on its own thread for `seconds`.
    func start(seconds: Double, seed: UInt64) {
        let thread = Thread { [self] in
            var generator = PoliceRecordGenerator(seed: seed)
            let start = DispatchTime.now().uptimeNanoseconds
            let end = start + UInt64(seconds * 1e9)
            var sent = 0
            var cumulative: Int64 = 0
            while !lock.withLock({ stopRequested }) {
                let due = start + UInt64(Double(sent) * interval * 1e9)
                // Stop at the end of the window also when the hub could not keep up with the schedule
                // (the achieved rate is then below the asked one, and the run does not stretch).
                guard due < end, DispatchTime.now().uptimeNanoseconds < end else { break }
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32((due - now) / 1000)) }
                let body = generator.answer(count: batch)
                let sentAt = DispatchTime.now().uptimeNanoseconds
                do {
                    let response = try hub.send("POST", "/v1/ingest/police-hukou", token: FeedBenchHub.pushToken, body: body)
                    let accepted = DispatchTime.now().uptimeNanoseconds
                    guard response.status == 200,
                          let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                          let events = json["events"] as? Int else {
                        throw BenchmarkError("push answered \(response.status)")
                    }
                    cumulative += Int64(events)
                    lock.withLock {
                        pushes.append(Push(acceptedNanoseconds: accepted, cumulativeEvents: cumulative,
                                          roundTripMicroseconds: Int64(accepted - sentAt) / 1000))
                        records += batch
                    }
                } catch {
                    lock.withLock { failure = "push \(sent + 1) failed: \(error)" }
                    break
                }
                sent += 1
            }
            lock.withLock { done = true }
            finished.signal()
        }
        thread.start()
    }

    /// Asks the pusher to stop after the request in flight.
    func stop() { lock.withLock { stopRequested = true } }

    /// Blocks until the pusher has stopped; throws if a push failed.
    func wait() throws {
        finished.wait()
        if let failure = lock.withLock({ failure }) { throw BenchmarkError(failure) }
    }

    /// True once the pusher thread has ended.
    var isFinished: Bool { lock.withLock { done } }

    /// Every push so far, in order.
    var accepted: [Push] { lock.withLock { pushes } }
    /// Records sent and accepted by the hub (rejected ones included).
    var recordCount: Int { lock.withLock { records } }

    /// The index of the push that appended the event `offset` positions after the first push
    /// (1-based), by binary search over the cumulative event counts; nil if none did (yet).
    static func push(containing offset: Int64, in pushes: [Push]) -> Int? {
        var low = 0, high = pushes.count
        while low < high {
            let mid = (low + high) / 2
            if pushes[mid].cumulativeEvents >= offset { high = mid } else { low = mid + 1 }
        }
        return low < pushes.count ? low : nil
    }
}

/// Percentiles of a set of delays, in milliseconds.
struct DelaySummary {
    let count: Int
    let p50: Double, p90: Double, p99: Double, max: Double, min: Double

    /// Summarizes delays given in microseconds (may be negative: an event can reach the
    /// subscriber before the pusher has read its push's answer).
    init(microseconds values: inout [Int64]) {
        values.sort()
        count = values.count
        func at(_ q: Double) -> Double {
            guard !values.isEmpty else { return .nan }
            return Double(values[Swift.min(values.count - 1, Int((Double(values.count) * q).rounded(.up)) - 1)]) / 1000
        }
        p50 = at(0.50); p90 = at(0.90); p99 = at(0.99)
        max = values.last.map { Double($0) / 1000 } ?? .nan
        min = values.first.map { Double($0) / 1000 } ?? .nan
    }

    static func ms(_ v: Double) -> String { v.isNaN ? "-" : String(format: "%.1f", v) }
}
