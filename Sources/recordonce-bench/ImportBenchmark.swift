import Foundation
import Mapping
import SourceFormats
import Store

/// Bulk load of a generated district through `recordonce import`, beside PostgreSQL's own COPY
/// of the same source records into a plain table, then the same files imported again.
///
/// Each import runs as its own `recordonce import` process (release build), as an operator would
/// run it, against one embedded cluster the benchmark starts; its peak memory is the child's
/// maximum resident set size. The reference: every source record of the same files, read
/// beforehand (not timed) and sent with one COPY FROM STDIN per file into an unindexed table
/// `(source_key text, record text)`: PostgreSQL storing the same rows with no work on them,
/// the physical limit of this machine. Beside it (ImportReferences.swift) a COPY into a table
/// keyed by the identity key and a department script's batched upsert of the mapped rows.
enum ImportBenchmark {
    struct FileEntry: Decodable {
        let file: String
        let adapter: String
        let records: Int
        let bytes: Int
    }

    struct Manifest: Decodable {
        let residents: Int
        let households: Int
        let files: [FileEntry]
    }

    struct Run {
        var seconds: Double
        var maxRSSKilobytes: Int
        var events: Int64
        var walBytes: Int64
    }

    static let usage = """
        import [--district DIR] [--only FILE[,FILE]] [--recordonce PATH] [--work DIR] [--skip-reference]
            Load every file of a district made by `recordonce district generate` through
            `recordonce import` into a fresh embedded cluster (one process per file, release build),
            then, on the same cluster and files, three references: COPY of the source records into
            an unindexed table; COPY of the mapped Person records into a table whose PRIMARY KEY
            is the identity key (the citizen ID; last record of a key wins; every resource when
            the mapping writes no Person); and a department script's batched INSERT ... ON
            CONFLICT (key) DO UPDATE of the same mapped rows (a text column per field, 5,000 rows
            per statement, literals built client-side as psycopg2's execute_values does). Reading and mapping the file for a
            reference is not timed. Then every file is imported again (expected: no new version,
            no event). Prints Markdown tables for docs/benchmarks.md: records/s, import time over
            each reference's, peak memory per import, WAL bytes per record (pg_current_wal_lsn
            difference), re-import speed-up, load average at start and end.
            --only police-hukou.ndjson runs the named district files only (comma-separated).
            Defaults: --district var/district, --recordonce .build/release/recordonce,
            --work /tmp/recordonce-bench-import (removed first).
        """

    static func run(_ args: [String]) -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            print("usage: recordonce-bench " + usage.trimmingCharacters(in: .whitespaces))
            return 0
        }
        let district = MappingBenchmark.option(args, "district") ?? "var/district"
        let binary = MappingBenchmark.option(args, "recordonce") ?? ".build/release/recordonce"
        let work = MappingBenchmark.option(args, "work") ?? "/tmp/recordonce-bench-import"
        guard let data = FileManager.default.contents(atPath: district + "/manifest.json"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            progress("import: no district at \(district) (make one: recordonce district generate --out \(district))")
            return 2
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            progress("import: \(binary) is missing (build it: swift build -c release --product recordonce)")
            return 2
        }
        var files = manifest.files
        if let only = MappingBenchmark.option(args, "only") {
            let names = only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            if let unknown = names.first(where: { name in !manifest.files.contains { $0.file == name } }) {
                progress("import: --only \(unknown) is not a file of \(district)/manifest.json (\(manifest.files.map(\.file).joined(separator: ", ")))")
                return 2
            }
            files = manifest.files.filter { names.contains($0.file) }
        }
        let loadAtStart = loadAverage()
        try? FileManager.default.removeItem(atPath: work)
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let cluster = try EmbeddedPostgres(options: EmbeddedPostgresOptions(dataDirectory: work))
            let url = try cluster.start()
            defer { cluster.stop() }
            let connection = try PostgresConnection(url: url)
            _ = try Migrator(migrations: Schema.migrations).migrate(connection)
            progress("district: \(manifest.residents) residents, \(manifest.households) households, \(files.count) of \(manifest.files.count) files; load average \(loadAtStart)")

            var first: [Run] = [], again: [Run] = [], reference: [Double] = [], references: [[Reference]] = []
            for entry in files {
                first.append(try importFile(entry, district: district, binary: binary, url: url, work: work, connection: connection))
                progress("  \(entry.file): \(rate(entry.records, first.last!.seconds)) records/s")
            }
            if !args.contains("--skip-reference") {
                let schema = try MappingSchema.load(catalogDirectory: "mappings/catalog")
                for entry in files {
                    references.append(try Self.references(entry, district: district, schema: schema, connection: connection))
                    reference.append(references.last![0].seconds)
                }
            }
            for entry in files {
                again.append(try importFile(entry, district: district, binary: binary, url: url, work: work, connection: connection))
                progress("  again \(entry.file): \(rate(entry.records, again.last!.seconds)) records/s, \(again.last!.events) events")
            }
            report(files, first: first, reference: reference, again: again)
            reportReferences(files, first: first, references: references, again: again,
                             loadAtStart: loadAtStart, loadAtEnd: loadAverage())
            return again.allSatisfy { $0.events == 0 } ? 0 : 1
        } catch {
            progress("import: \(error)")
            return 1
        }
    }

    /// One `recordonce import` process; its wall time, peak memory, and the events it appended.
    static func importFile(_ entry: FileEntry, district: String, binary: String, url: String, work: String,
                           connection: PostgresConnection) throws -> Run {
        let before = try ChangeLog.head(connection)
        let lsn = try walPosition(connection)
        let start = DispatchTime.now().uptimeNanoseconds
        let log = work + "/" + entry.adapter + ".log"
        let (status, maxRSS) = try spawnAndWait(binary, ["import", entry.adapter, district + "/" + entry.file,
                                                         "--database-url", url, "--log-level", "error"], log: log)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard status == 0 else { throw BenchmarkError("recordonce import \(entry.adapter) exited with \(status); see \(log)") }
        return Run(seconds: seconds, maxRSSKilobytes: maxRSS, events: try ChangeLog.head(connection) - before,
                   walBytes: try walBytes(connection, since: lsn))
    }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func rate(_ records: Int, _ seconds: Double) -> Int { seconds > 0 ? Int(Double(records) / seconds) : 0 }

    static func report(_ files: [FileEntry], first: [Run], reference: [Double], again: [Run]) {
        print("| File | Records | Import s | Records/s | COPY s | COPY records/s | Import / COPY | Peak RSS MB | Re-import s | Speed-up | Re-import events |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (i, entry) in files.enumerated() {
            let copy = reference.indices.contains(i) ? reference[i] : nil
            print("| \(entry.file) | \(entry.records) | \(fixed(first[i].seconds)) | \(rate(entry.records, first[i].seconds)) | "
                  + "\(copy.map(fixed) ?? "-") | \(copy.map { String(rate(entry.records, $0)) } ?? "-") | "
                  + "\(copy.map { fixed(first[i].seconds / $0) + "x" } ?? "-") | \(first[i].maxRSSKilobytes / 1024) | "
                  + "\(fixed(again[i].seconds)) | \(fixed(first[i].seconds / again[i].seconds))x | \(again[i].events) |")
        }
        let records = files.map(\.records).reduce(0, +)
        let importSeconds = first.map(\.seconds).reduce(0, +), againSeconds = again.map(\.seconds).reduce(0, +)
        let copySeconds = reference.reduce(0, +)
        print("| **all** | \(records) | \(fixed(importSeconds)) | \(rate(records, importSeconds)) | "
              + "\(reference.isEmpty ? "-" : fixed(copySeconds)) | \(reference.isEmpty ? "-" : String(rate(records, copySeconds))) | "
              + "\(reference.isEmpty ? "-" : fixed(importSeconds / copySeconds) + "x") | \(first.map(\.maxRSSKilobytes).max()! / 1024) | "
              + "\(fixed(againSeconds)) | \(fixed(importSeconds / againSeconds))x | \(again.map(\.events).reduce(0, +)) |")
    }

    static func fixed(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Runs a program and waits for it, returning its exit status and peak resident set size in
    /// kilobytes (from wait4's resource usage, which Foundation's Process does not expose).
    static func spawnAndWait(_ program: String, _ arguments: [String], log: String) throws -> (status: Int32, maxRSSKilobytes: Int) {
        var pid: pid_t = 0
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The child's progress and summary would interleave with the table: its stdout is dropped,
        // its stderr (progress, errors) kept in a log file.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else { throw BenchmarkError("cannot start \(program): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchmarkError("wait4 failed: \(String(cString: strerror(errno)))") }
        }
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, usage.ru_maxrss)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
