import Foundation

/// `recordonce-bench feed latency|fanout|catchup`: the change feed against a real hub process.
enum FeedBenchmark {
    static let usage = """
        feed <latency|fanout|catchup|projection> [options]
            The change feed against a separate `recordonce serve` process (release build) on an
            embedded cluster this benchmark starts in --work. Common options: --recordonce PATH
            (default .build/release/recordonce), --work DIR (default /tmp/recordonce-bench-feed,
            removed first), --fsync off (a throwaway cluster without fsync and synchronous commit,
            to see what durability costs; default on, as in production).
    \(FeedLatencyBenchmark.usage)
    \(FeedFanoutBenchmark.usage)
    \(FeedCatchupBenchmark.usage)
    \(FeedProjectionBenchmark.usage)
    """

    static func run(_ args: [String]) -> Int32 {
        do {
            switch args.first {
            case "latency": return try FeedLatencyBenchmark.run(Array(args.dropFirst()))
            case "fanout": return try FeedFanoutBenchmark.run(Array(args.dropFirst()))
            case "catchup": return try FeedCatchupBenchmark.run(Array(args.dropFirst()))
            case "projection": return try FeedProjectionBenchmark.run(Array(args.dropFirst()))
            default:
                print("usage: recordonce-bench " + usage.trimmingCharacters(in: .whitespaces))
                return args.first == "--help" ? 0 : 2
            }
        } catch {
            progress("feed \(args.first ?? ""): \(error)")
            return 1
        }
    }

    /// The hub the options describe, started; the open-file limit raised first (the hub inherits it).
    static func startHub(_ args: [String]) throws -> FeedBenchHub {
        FeedBenchHub.raiseOpenFileLimit()
        let binary = MappingBenchmark.option(args, "recordonce") ?? ".build/release/recordonce"
        let work = MappingBenchmark.option(args, "work") ?? "/tmp/recordonce-bench-feed"
        let durable = MappingBenchmark.option(args, "fsync") != "off"
        progress("starting the hub (\(binary)) in \(work)\(durable ? "" : " without fsync"); load average \(FeedBenchHub.loadAverage())")
        return try FeedBenchHub(binary: binary, work: work, durable: durable)
    }

    static func progress(_ line: String) { ImportBenchmark.progress(line) }

    /// The positive number given as `--name`, or `value` when absent; a usage error otherwise.
    static func number(_ args: [String], _ name: String, default value: Double) throws -> Double {
        guard let text = MappingBenchmark.option(args, name) else { return value }
        guard let n = Double(text), n > 0, n.isFinite else { throw BenchmarkError("--\(name) must be a number above 0, got \(text)") }
        return n
    }

    /// The whole number given as `--name` (at least 1), or `value` when absent.
    static func count(_ args: [String], _ name: String, default value: Int) throws -> Int {
        guard let text = MappingBenchmark.option(args, name) else { return value }
        guard let n = Int(text), n >= 1 else { throw BenchmarkError("--\(name) must be a whole number of at least 1, got \(text)") }
        return n
    }
}
