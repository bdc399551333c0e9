import Foundation

/// Fan-out: N concurrent SSE subscribers on one hub process while records are pushed at a modest
/// rate; the delay from push accepted to event received, over every (subscriber, event) pair.
///
/// The subscribers are N sockets in this process, driven by one thread with epoll (no thread per
/// connection); the hub is a separate `recordonce serve` process.
enum FeedFanoutBenchmark {
    static let usage = """
          fanout [--subscribers N] [--subscriptions K] [--rate R] [--batch B] [--seconds S] [--warmup S]
                 [--recordonce PATH] [--work DIR]
              Open N SSE streams (one epoll thread here), spread over K subscriptions that differ in
              their grants (masking of name, ID number, birth date, mobile and addresses; each sees
              Person and Household of 510108), then push R records/s in batches of B for S seconds;
              prints p50/p90/p99/max of push-accepted-to-received over every subscriber and event,
              the same for one reference subscriber on its own thread and socket, events delivered,
              and the hub's CPU and memory (RSS sampled every second). Defaults: --subscribers 10000
              --subscriptions 1 --rate 10 --batch 1 --seconds 30 --warmup 3.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let wanted = try FeedBenchmark.count(args, "subscribers", default: 10_000)
        let subscriptionCount = try FeedBenchmark.count(args, "subscriptions", default: 1)
        let rate = try FeedBenchmark.count(args, "rate", default: 10)
        let batch = try FeedBenchmark.count(args, "batch", default: 1)
        let seconds = try FeedBenchmark.number(args, "seconds", default: 30)
        let warmup = try FeedBenchmark.number(args, "warmup", default: 3)
        let hub = try FeedBenchmark.startHub(args)
        defer { hub.stop() }
        var tokens: [String] = []
        for k in 0..<subscriptionCount {
            tokens.append(try subscriptionCount == 1 ? hub.subscribe(name: "fanout")
                                                     : hub.subscribe(name: "fanout-\(k)", masking: grants(k)))
        }
        let base = try hub.head()

        // The reference: one more subscriber (first subscription) on its own blocking socket and
        // thread, as in the latency benchmark, so the same run shows what one stream alone sees.
        let reference = try BlockingSSEClient(port: hub.port, token: tokens[0], after: base)
        let referenceThread = Thread { reference.readUntilStopped() }
        referenceThread.start()
        try reference.waitUntilOpen(timeout: 10)

        let clients = try EpollSSEClients(port: hub.port, tokens: tokens, after: base)
        let openStart = Date()
        clients.open(count: wanted, timeout: 180)
        let openSeconds = Date().timeIntervalSince(openStart)
        FeedBenchmark.progress("fanout: \(clients.openCount) of \(wanted) streams open in \(String(format: "%.1f", openSeconds)) s"
                               + (clients.failures.isEmpty ? "" : "; failures: \(clients.failureSummary)"))
        guard clients.openCount > 0 else { throw BenchmarkError("no stream could be opened") }

        let cpuBefore = ProcessUsage(pid: hub.processID)
        let pusher = FeedPusher(hub: hub, recordsPerSecond: rate, batch: batch)
        let rssBefore = ProcessUsage(pid: hub.processID)?.rssKilobytes ?? 0
        let started = DispatchTime.now().uptimeNanoseconds
        let activity = ActivitySampler(hub: hub, start: started) { [("records", pusher.recordCount)] }
        pusher.start(seconds: seconds, seed: 7)
        clients.receive(until: { pusher.isFinished }, base: base, finalPosition: {
            base + (pusher.accepted.last?.cumulativeEvents ?? 0)
        }, drainTimeout: 30)
        try pusher.wait()
        let cpuAfter = ProcessUsage(pid: hub.processID)
        let activityRows = activity.stop()
        let rss = activity.rss.map { $0 / 1024 }
        reference.stop()
        let pushes = pusher.accepted
        let total = pushes.last?.cumulativeEvents ?? 0
        // What each subscription sees (its grants decide which updates it is sent).
        var perSubscription: [Int] = []
        for token in tokens { perSubscription.append(try subscriptionCount == 1 ? Int(total) : hub.countEvents(token: token, after: base)) }

        let warmupEnd = started + UInt64(warmup * 1e9)
        var delays: [Int64] = []
        delays.reserveCapacity(clients.samples.count)
        var unmatched = 0
        for sample in clients.samples {
            let offset = Int64(sample >> 32), at = clients.startNanoseconds + (sample & 0xffff_ffff) * 1000
            guard let k = FeedPusher.push(containing: offset, in: pushes) else { unmatched += 1; continue }
            guard pushes[k].acceptedNanoseconds >= warmupEnd else { continue }
            delays.append((Int64(at) - Int64(pushes[k].acceptedNanoseconds)) / 1000)
        }
        let summary = DelaySummary(microseconds: &delays)
        var referenceDelays: [Int64] = []
        for (position, at) in reference.received {
            guard let k = FeedPusher.push(containing: position - base, in: pushes), pushes[k].acceptedNanoseconds >= warmupEnd else { continue }
            referenceDelays.append((Int64(at) - Int64(pushes[k].acceptedNanoseconds)) / 1000)
        }
        let referenceSummary = DelaySummary(microseconds: &referenceDelays)
        let expected = zip(perSubscription, clients.openPerGroup).reduce(0) { $0 + $1.0 * $1.1 }
        let cpu = cpuBefore.map { before in cpuAfter.map { $0.cpuSeconds - before.cpuSeconds } ?? 0 } ?? 0
        let wall = Double(cpuAfter?.at ?? 0) - Double(cpuBefore?.at ?? 0)
        FeedBenchmark.progress("fanout: \(clients.samples.count) deliveries of \(expected) expected; \(unmatched) unmatched; "
                               + "\(clients.closedDuringRun) streams closed during the run")

        print("| Subscribers open (asked) | Subscriptions | Open s | Rate (records/s) | Events | Deliveries (expected) | Measured | p50 ms | p90 ms | p99 ms | max ms | Hub CPU (cores) | Hub RSS MB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| \(clients.openCount) (\(wanted)) | \(subscriptionCount) | \(String(format: "%.1f", openSeconds)) | \(rate) | \(total) | \(clients.samples.count) (\(expected)) | "
              + "\(summary.count) | \(DelaySummary.ms(summary.p50)) | \(DelaySummary.ms(summary.p90)) | \(DelaySummary.ms(summary.p99)) | "
              + "\(DelaySummary.ms(summary.max)) | \(wall > 0 ? String(format: "%.2f", cpu / (wall / 1e9)) : "-") | "
              + "\(cpuAfter.map { String($0.rssKilobytes / 1024) } ?? "-") |")
        print("")
        print("Reference subscriber (own socket and thread, subscription 1), ms: p50 \(DelaySummary.ms(referenceSummary.p50)), "
              + "p90 \(DelaySummary.ms(referenceSummary.p90)), p99 \(DelaySummary.ms(referenceSummary.p99)), "
              + "max \(DelaySummary.ms(referenceSummary.max)); \(referenceSummary.count) events measured.")
        if subscriptionCount > 1 {
            print("Events per subscription: min \(perSubscription.min() ?? 0), max \(perSubscription.max() ?? 0) "
                  + "(of \(total) appended); streams per subscription \(clients.openPerGroup.min() ?? 0)-\(clients.openPerGroup.max() ?? 0).")
        }
        if !rss.isEmpty {
            let step = max(1, rss.count / 12)
            let series = stride(from: 0, to: rss.count, by: step).map { String(rss[$0]) }.joined(separator: " ")
            print("Hub RSS MB with \(clients.openCount) streams open: \(rssBefore / 1024) before pushing; during the run "
                  + "min \(rss.min()!), max \(rss.max()!), last \(rss.last!) (every \(step) s: \(series)).")
        }
        if let path = MappingBenchmark.option(args, "activity") {
            try (activityRows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        print("Load average at the end: \(FeedBenchHub.loadAverage()).")
        return clients.samples.count == expected && clients.openCount == wanted ? 0 : 1
    }

    /// Subscription k's masking: each of six fields plain, masked or pseudonymized by the digits
    /// of k in base 3, so that 100 subscriptions have 100 different grants (and frames).
    static func grants(_ k: Int) -> [String: String] {
        let fields = ["Person.name", "Person.citizen_id", "Person.date_of_birth", "Person.mobile",
                      "Person.current_address", "Person.registered_address"]
        let policies = ["plain", "masked", "pseudonymized"]
        var out: [String: String] = [:]
        var digits = k
        for field in fields {
            out[field] = policies[digits % 3]
            digits /= 3
        }
        return out
    }
}

/// CPU time and resident memory of a process, read from /proc.
struct ProcessUsage {
    let cpuSeconds: Double
    let rssKilobytes: Int
    let at: UInt64

    init?(pid: pid_t) {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let rssLine = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        rssKilobytes = rssLine.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        at = DispatchTime.now().uptimeNanoseconds
    }
}
