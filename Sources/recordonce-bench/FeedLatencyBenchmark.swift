import Foundation

/// Push-to-delivery latency: one SSE subscriber while a pusher sends police register records
/// at a steady rate; per event, the time it was read from the stream minus the time the push
/// that created it was accepted (its 200 answer read). Both ends live in this process (one
/// monotonic clock); the hub is a separate `recordonce serve` process.
enum FeedLatencyBenchmark {
    static let usage = """
          latency [--rate N] [--batch B] [--seconds S] [--warmup S] [--samples FILE] [--recordonce PATH] [--work DIR]
              One SSE subscriber while N records/s are pushed in batches of B (one request every
              B/N s, never two in flight); prints p50/p90/p99/max of push-accepted-to-event-received.
              Defaults: --rate 1000 --batch 20 --seconds 30 --warmup 3 (pushes in the first S seconds
              are not counted), --work /tmp/recordonce-bench-feed. --samples FILE writes every event's
              delay as tab-separated text (position, seconds since the first push, delay ms) and
              FILE.activity one line per second (pushes, records, events received, autovacuum and
              autoanalyze runs, hub CPU and RSS, load); plot both with scripts/plot-feed-latency.py.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let rate = try FeedBenchmark.count(args, "rate", default: 1000)
        // 20: one pusher with one request in flight reaches 1,000 records/s (a durable push
        // takes ~15 ms; with batches of 10 it reached about half the rate).
        let batch = try FeedBenchmark.count(args, "batch", default: 20)
        let seconds = try FeedBenchmark.number(args, "seconds", default: 30)
        let warmup = try FeedBenchmark.number(args, "warmup", default: 3)
        let hub = try FeedBenchmark.startHub(args)
        defer { hub.stop() }
        let token = try hub.subscribe(name: "latency")
        let base = try hub.head()

        let subscriber = try BlockingSSEClient(port: hub.port, token: token, after: base)
        let receiver = Thread { subscriber.readUntilStopped() }
        receiver.start()
        try subscriber.waitUntilOpen(timeout: 10)

        FeedBenchmark.progress("latency: pushing \(rate) records/s in batches of \(batch) for \(Int(seconds)) s")
        let pusher = FeedPusher(hub: hub, recordsPerSecond: rate, batch: batch)
        let started = DispatchTime.now().uptimeNanoseconds
        let samplesPath = MappingBenchmark.option(args, "samples")
        let activity = samplesPath.map { _ in
            ActivitySampler(hub: hub, start: started) {
                [("pushes", pusher.accepted.count), ("records", pusher.recordCount), ("events_received", subscriber.received.count)]
            }
        }
        pusher.start(seconds: seconds, seed: 42)
        try pusher.wait()
        let pushSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let pushes = pusher.accepted
        let total = pushes.last?.cumulativeEvents ?? 0
        let caughtUp = subscriber.waitFor(position: base + total, timeout: 15)
        subscriber.stop()

        let received = subscriber.received
        let warmupEnd = started + UInt64(warmup * 1e9)
        var delays: [Int64] = []
        delays.reserveCapacity(received.count)
        var unmatched = 0
        for (position, at) in received {
            guard let k = FeedPusher.push(containing: position - base, in: pushes) else { unmatched += 1; continue }
            let accepted = pushes[k].acceptedNanoseconds
            guard accepted >= warmupEnd else { continue }
            delays.append((Int64(at) - Int64(accepted)) / 1000)
        }
        var roundTrips = pushes.map(\.roundTripMicroseconds)
        let pushTimes = DelaySummary(microseconds: &roundTrips)
        if let path = samplesPath {
            // One line per event: position, seconds since the pushing started, delay in ms (for plots).
            var text = "position\tseconds\tdelay_ms\n"
            text.reserveCapacity(received.count * 32)
            for (position, at) in received {
                guard let k = FeedPusher.push(containing: position - base, in: pushes) else { continue }
                text += "\(position)\t" + String(format: "%.3f", Double(Int64(at) - Int64(started)) / 1e9) + "\t"
                    + String(format: "%.2f", Double(Int64(at) - Int64(pushes[k].acceptedNanoseconds)) / 1e6) + "\n"
            }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            if let rows = activity?.stop() {
                try (rows.joined(separator: "\n") + "\n").write(toFile: path + ".activity", atomically: true, encoding: .utf8)
            }
        }
        let distinct = Set(received.map(\.position)).count
        let summary = DelaySummary(microseconds: &delays)
        let achieved = Double(pusher.recordCount) / pushSeconds
        FeedBenchmark.progress("latency: \(received.count) events received of \(total) appended; \(unmatched) unmatched")

        print("| Rate (records/s, achieved) | Batch | Events appended | Events received | Measured (after warm-up) | p50 ms | p90 ms | p99 ms | max ms | min ms |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| \(rate) (\(Int(achieved))) | \(batch) | \(total) | \(distinct) | \(summary.count) | \(DelaySummary.ms(summary.p50)) | "
              + "\(DelaySummary.ms(summary.p90)) | \(DelaySummary.ms(summary.p99)) | \(DelaySummary.ms(summary.max)) | \(DelaySummary.ms(summary.min)) |")
        print("")
        print("Push round trips (request sent to 200 read), ms: p50 \(DelaySummary.ms(pushTimes.p50)), "
              + "p99 \(DelaySummary.ms(pushTimes.p99)), max \(DelaySummary.ms(pushTimes.max)); \(pushes.count) pushes, "
              + "\(pusher.recordCount) records.")
        print("Load average at the end: \(FeedBenchHub.loadAverage()).")
        let complete = caughtUp && distinct == Int(total) && received.count == Int(total)
        if !complete { FeedBenchmark.progress("latency: the subscriber did not receive every event exactly once") }
        return complete ? 0 : 1
    }
}
