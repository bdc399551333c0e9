import Foundation

/// Fan-out: N concurrent SSE subscribers on one hub process while records are pushed at a modest
/// rate; the delay from push accepted to event received, over every (subscriber, event) pair.
///
/// The subscribers are N sockets in this process, driven by one thread with epoll (no thread per
/// connection); the hub is a separate `recordonce serve` process.
enum FeedFanoutBenchmark {
    static let usage = """
          fanout [--subscribers N] [--rate R] [--batch B] [--seconds S] [--warmup S] [--recordonce PATH] [--work DIR]
              Open N SSE streams (one epoll thread here), then push R records/s in batches of B for
              S seconds; prints p50/p90/p99/max of push-accepted-to-received over every subscriber and
              event, events delivered, and the hub's CPU and memory. Defaults: --subscribers 10000
              --rate 10 --batch 1 --seconds 30 --warmup 3.
    """

    static func run(_ args: [String]) throws -> Int32 {
        let wanted = try FeedBenchmark.count(args, "subscribers", default: 10_000)
        let rate = try FeedBenchmark.count(args, "rate", default: 10)
        let batch = try FeedBenchmark.count(args, "batch", default: 1)
        let seconds = try FeedBenchmark.number(args, "seconds", default: 30)
        let warmup = try FeedBenchmark.number(args, "warmup", default: 3)
        let hub = try FeedBenchmark.startHub(args)
        defer { hub.stop() }
        let token = try hub.subscribe(name: "fanout")
        let base = try hub.head()

        let clients = try EpollSSEClients(port: hub.port, token: token, after: base)
        let openStart = Date()
        clients.open(count: wanted, timeout: 180)
        let openSeconds = Date().timeIntervalSince(openStart)
        FeedBenchmark.progress("fanout: \(clients.openCount) of \(wanted) streams open in \(String(format: "%.1f", openSeconds)) s"
                               + (clients.failures.isEmpty ? "" : "; failures: \(clients.failureSummary)"))
        guard clients.openCount > 0 else { throw BenchmarkError("no stream could be opened") }

        let cpuBefore = ProcessUsage(pid: hub.processID)
        let pusher = FeedPusher(hub: hub, recordsPerSecond: rate, batch: batch)
        let started = DispatchTime.now().uptimeNanoseconds
        pusher.start(seconds: seconds, seed: 7)
        clients.receive(until: { pusher.isFinished }, base: base, finalPosition: {
            base + (pusher.accepted.last?.cumulativeEvents ?? 0)
        }, drainTimeout: 30)
        try pusher.wait()
        let cpuAfter = ProcessUsage(pid: hub.processID)
        let pushes = pusher.accepted
        let total = pushes.last?.cumulativeEvents ?? 0

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
        let expected = Int(total) * clients.openCount
        let cpu = cpuBefore.map { before in cpuAfter.map { $0.cpuSeconds - before.cpuSeconds } ?? 0 } ?? 0
        let wall = Double(cpuAfter?.at ?? 0) - Double(cpuBefore?.at ?? 0)
        FeedBenchmark.progress("fanout: \(clients.samples.count) deliveries of \(expected) expected; \(unmatched) unmatched; "
                               + "\(clients.closedDuringRun) streams closed during the run")

        print("| Subscribers open (asked) | Open s | Rate (records/s) | Events | Deliveries (expected) | Measured | p50 ms | p90 ms | p99 ms | max ms | Hub CPU (cores) | Hub RSS MB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("| \(clients.openCount) (\(wanted)) | \(String(format: "%.1f", openSeconds)) | \(rate) | \(total) | \(clients.samples.count) (\(expected)) | "
              + "\(summary.count) | \(DelaySummary.ms(summary.p50)) | \(DelaySummary.ms(summary.p90)) | \(DelaySummary.ms(summary.p99)) | "
              + "\(DelaySummary.ms(summary.max)) | \(wall > 0 ? String(format: "%.2f", cpu / (wall / 1e9)) : "-") | "
              + "\(cpuAfter.map { String($0.rssKilobytes / 1024) } ?? "-") |")
        print("")
        print("Load average at the end: \(FeedBenchHub.loadAverage()).")
        return clients.samples.count == expected && clients.openCount == wanted ? 0 : 1
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
