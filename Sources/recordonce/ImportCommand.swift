import CLIKit
import Foundation
import Hub
import RecordStore
import Store
import Telemetry

let importCommand = Command(
    "import",
    abstract: "Load a department's file through its adapter's mapping into the store.",
    discussion: """
    The file is read in the adapter's format (its mapping's source.format) and streamed: memory
    does not grow with the file. For a JSON adapter, a file named *.ndjson or *.jsonl holds one
    record per line without the envelope; it streams, where a JSON document is read whole. Records are stored in batches, one transaction each; bad records
    go to the rejects table with their reasons and the good ones beside them are kept. Importing
    the same file again changes nothing and emits no change events. Run it next to a running hub
    (same --data-dir) or on its own. A progress line shows records/s, rejections and the ETA when
    stderr is a terminal; the summary goes to stdout.

    With --threads 2 (the default on a machine with two or more cores; this one has \(importCores)),
    one thread reads and maps the next batches while --writers threads (default 2) write the ones
    before, each in its own transaction and database connection. With two writers, a batch that
    shares no source record with the one before it (and whose predecessor sends nothing to
    matching) starts while that one is still being written; it takes the entities both write
    (a household cut by the batch boundary), and writes its counters, rejects and change events,
    only after that one committed. On two cores that loads about 1.3x faster than one writer
    (docs/benchmarks.md "Bulk load"). --writers 1 writes one batch at a time (two connections),
    --threads 1 does everything on one thread and one connection: for a machine with one core or
    a database that must see fewer connections. All store exactly the same: the same golden
    records, rejects, conflicts and change events, in the same order.
    """,
    options: [Option("batch-size", value: "N", help: "Records per transaction; memory in use grows with it, not with the file.", default: "2000"),
              Option("threads", value: "N", help: "2: map the next batches while writers write; 1: one batch after the other.",
                     default: importCores >= 2 ? "2" : "1", choices: ["1", "2"]),
              Option("writers", value: "N", help: "With --threads 2: batches in their transactions at once (connections: writers + 1).",
                     default: "2", choices: ["1", "2"])]
        + HubOptions.database + HubOptions.content + HubOptions.logging,
    arguments: [Argument("adapter", help: "The adapter whose mapping reads the file (see adapters/)."),
                Argument("file", help: "The department's file (JSON, NDJSON, CSV or XML, as the mapping says).")]
) { args in
    let logger = HubOptions.logger(args, label: "import")
    let configuration = try HubOptions.configuration(args)
    guard let batchSize = try args.int("batch-size"), (1...100_000).contains(batchSize) else {
        throw UsageError("--batch-size must be between 1 and 100000")
    }
    let pipelined = try args.int("threads") == 2
    let adapterID = args.positional(0)!, file = args.positional(1)!
    let registry = try IngestRegistry.load(configuration, logger: logger)
    guard registry.adapters[adapterID] != nil else {
        let known = registry.adapters.keys.sorted().joined(separator: ", ")
        throw UsageError("no adapter '\(adapterID)' in \(configuration.adaptersDirectory) (known: \(known.isEmpty ? "none" : known))")
    }
    guard FileManager.default.isReadableFile(atPath: file) else {
        CommandLineRunner.printError("cannot read \(file)")
        return ExitCode.failure
    }
    let database = try HubDatabase.open(configuration, logger: logger)
    defer { database.close() }
    try database.migrate(logger: logger)
    let writers = pipelined ? try args.int("writers") ?? 2 : 1
    let pool = ConnectionPool(url: database.url, maxConnections: pipelined ? writers + 1 : 1)
    defer { pool.close() }
    let service = IngestService(registry: registry, store: RecordStore(pool: pool, rules: registry.rules))
    let line = ProgressLine(label: adapterID)
    let summary: IngestService.ImportProgress
    do {
        summary = try service.importFile(adapterID: adapterID, path: file, batchSize: batchSize, pipelined: pipelined,
                                         writers: writers) { line.update($0) }
    } catch {
        line.finish()
        throw error
    }
    line.finish()
    print("""
        \(adapterID): \(summary.records) records in \(String(format: "%.1f", summary.seconds)) s \
        (\(Int(summary.recordsPerSecond)) records/s)
          accepted \(summary.accepted), unchanged \(summary.unchanged), rejected \(summary.rejected), skipped \(summary.skipped)
          change events \(summary.events), conflicts \(summary.conflicts)
        """)
    if summary.rejected > 0 {
        print("  rejected records and their reasons: GET /v1/rejects?adapter=\(adapterID)")
    }
    return ExitCode.success
}

/// Cores this machine offers; with one, a second thread would only take turns with the first.
let importCores = ProcessInfo.processInfo.activeProcessorCount

/// A one-line progress display on stderr, redrawn in place on a terminal and printed every few
/// seconds otherwise (logs of unattended runs).
final class ProgressLine: @unchecked Sendable {
    let label: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPrint = Date.distantPast
    private var drawn = false

    init(label: String) { self.label = label }

    func update(_ p: IngestService.ImportProgress) {
        let now = Date()
        guard isTerminal || now.timeIntervalSince(lastPrint) >= 5 else { return }
        lastPrint = now
        var text = "\(label): \(p.records) records, \(Int(p.recordsPerSecond))/s, rejected \(p.rejected)"
        if let read = p.bytesRead, let total = p.bytesTotal, total > 0, read > 0 {
            let fraction = min(1, Double(read) / Double(total))
            let eta = p.seconds * (1 - fraction) / max(fraction, 0.0001)
            text += String(format: ", %.0f%%, ETA %d:%02d", fraction * 100, Int(eta) / 60, Int(eta) % 60)
        }
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
