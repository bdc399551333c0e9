import Foundation
import Mapping
import SourceFormats
import Store

/// The reference rows of `recordonce-bench import`: what PostgreSQL, and a department's own
/// script, do with the same file on the same cluster in the same run.
///
/// - COPY unindexed: every source record (key, JSON text) into a plain table, one COPY per file.
/// - COPY keyed: the mapped Person records (every resource's, for a mapping without Person) that
///   have an identity key into a table whose PRIMARY KEY is that key (the citizen ID for Person);
///   the last record of a key in the file wins.
/// - upsert: the same mapped records, one text column per canonical field, written with
///   `INSERT ... VALUES (..),(..) ON CONFLICT (key) DO UPDATE SET ... = EXCLUDED....`, 5,000 rows
///   per statement, literals built client-side (what psycopg2's `execute_values` sends); a
///   key repeated inside one statement keeps its last row, as a script's dict would.
///
/// Reading and mapping the file and building the COPY text or SQL are done before the clock
/// starts, so each reference is PostgreSQL's share alone. Each starts after a CHECKPOINT.
extension ImportBenchmark {
    /// One timed reference: seconds, rows written, WAL bytes written.
    struct Reference {
        var what: String
        var seconds: Double
        var rows: Int
        var walBytes: Int64
    }

    static let upsertRowsPerStatement = 5_000

    /// Reads the file as the import reads it (the adapter's mapping's source options; a JSON
    /// adapter's file ending in .ndjson line by line).
    static func openReader(_ entry: FileEntry, district: String, plan: MappingPlan) throws -> any SourceRecordReader {
        let path = district + "/" + entry.file
        var options = plan.source.readOptions
        if options.format == .json, SourceFormat(fileName: path) == .ndjson {
            options.format = .ndjson
            options.recordsPath = nil
        }
        return try SourceReaders.open(path: path, options: options)
    }

    /// A mapped record with an identity: its resource, key text and field values in catalog order.
    struct KeyedRow {
        var resource: String
        var key: String
        var fields: [(name: String, value: String)]

        func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    }

    /// The canonical records the mapping produces from the file that have an identity, in file
    /// order: Person's (a department script keeps its persons), or every resource's when the
    /// mapping writes no Person.
    static func mappedRows(_ entry: FileEntry, district: String, plan: MappingPlan) throws -> [KeyedRow] {
        let onlyPerson = plan.targets.contains { $0.resource == "Person" }
        let reader = try openReader(entry, district: district, plan: plan)
        var rows: [KeyedRow] = []
        rows.reserveCapacity(entry.records)
        while let item = reader.next() {
            guard case .record(let record) = item else { continue }
            for canonical in plan.apply(record).records where !canonical.identity.isEmpty && (!onlyPerson || canonical.resource == "Person") {
                let key = canonical.identity.keys.sorted().map { canonical.identity[$0]! }.joined(separator: "|")
                rows.append(KeyedRow(resource: canonical.resource, key: key, fields: canonical.fields.map { ($0.name, $0.value.text) }))
            }
        }
        return rows
    }

    static func walPosition(_ connection: PostgresConnection) throws -> String {
        try connection.query("SELECT pg_current_wal_lsn()::text AS lsn").first?["lsn"] ?? "0/0"
    }

    static func walBytes(_ connection: PostgresConnection, since start: String) throws -> Int64 {
        let text = try connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint::text AS d", [start]).first?["d"]
        return Int64(text ?? "0") ?? 0
    }

    /// Runs `body` after a checkpoint and returns its wall time and the WAL it wrote.
    static func timed(_ connection: PostgresConnection, _ body: () throws -> Void) throws -> (seconds: Double, walBytes: Int64) {
        try connection.execute("CHECKPOINT")
        let lsn = try walPosition(connection)
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (seconds, try walBytes(connection, since: lsn))
    }

    /// COPY of the source records into an unindexed `(source_key text, record text)` table.
    static func copyUnindexed(_ entry: FileEntry, district: String, plan: MappingPlan, connection: PostgresConnection) throws -> Reference {
        let reader = try openReader(entry, district: district, plan: plan)
        var rows: [[String?]] = []
        rows.reserveCapacity(entry.records)
        while let item = reader.next() {
            guard case .record(let record) = item else { continue }
            rows.append([record.sourceKey ?? String(rows.count), SourceValue.object(record.fields).jsonText])
        }
        try connection.execute("DROP TABLE IF EXISTS bench_copy")
        try connection.execute("CREATE TABLE bench_copy (source_key text, record text)")
        let (seconds, wal) = try timed(connection) {
            try connection.transaction { c in
                _ = try c.copyIn("COPY bench_copy (source_key, record) FROM STDIN") { w in
                    for row in rows { try w.appendRow(row) }
                }
            }
        }
        try connection.execute("DROP TABLE bench_copy")
        return Reference(what: "COPY, unindexed table", seconds: seconds, rows: rows.count, walBytes: wal)
    }

    /// COPY of the mapped records into `(resource, key) PRIMARY KEY, record text)`, last record of a key winning.
    static func copyKeyed(_ mapped: [KeyedRow], plan: MappingPlan, connection: PostgresConnection) throws -> Reference {
        var last: [String: Int] = [:]
        for (i, row) in mapped.enumerated() { last[row.resource + "\u{1}" + row.key] = i }
        var rows: [[String?]] = []
        rows.reserveCapacity(last.count)
        for (i, row) in mapped.enumerated() where last[row.resource + "\u{1}" + row.key] == i {
            // The record as a script would keep it: the fields as JSON in catalog order.
            var json = "{"
            for (k, field) in row.fields.enumerated() {
                if k > 0 { json += "," }
                JSONStringEscaper.append(field.name, to: &json)
                json += ":"
                JSONStringEscaper.append(field.value, to: &json)
            }
            rows.append([row.resource, row.key, json + "}"])
        }
        try connection.execute("DROP TABLE IF EXISTS bench_copy_keyed")
        try connection.execute("CREATE TABLE bench_copy_keyed (resource text, identity_key text, record text, PRIMARY KEY (resource, identity_key))")
        let (seconds, wal) = try timed(connection) {
            try connection.transaction { c in
                _ = try c.copyIn("COPY bench_copy_keyed (resource, identity_key, record) FROM STDIN") { w in
                    for row in rows { try w.appendRow(row) }
                }
            }
        }
        try connection.execute("DROP TABLE bench_copy_keyed")
        return Reference(what: "COPY, table keyed by identity", seconds: seconds, rows: rows.count, walBytes: wal)
    }

    /// Batched `INSERT ... ON CONFLICT (key) DO UPDATE` of the mapped records, one table per
    /// resource with a text column per canonical field, 5,000 rows per statement, autocommit.
    static func upsert(_ mapped: [KeyedRow], plan: MappingPlan, connection: PostgresConnection) throws -> Reference {
        var columnsByResource: [String: [String]] = [:]
        let resourcesWritten = Set(mapped.map(\.resource))
        for target in plan.targets where resourcesWritten.contains(target.resource) && !(columnsByResource[target.resource] ?? []).contains(target.field) {
            columnsByResource[target.resource, default: []].append(target.field)
        }
        let resources = columnsByResource.keys.sorted()
        func table(_ resource: String) -> String { PostgresConnection.quoteIdentifier("bench_upsert_" + resource.lowercased()) }
        func literal(_ value: String?) -> String {
            guard let value else { return "NULL" }
            return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
        }
        // Statements built before the clock starts: rows in file order, per resource, 5,000 a statement.
        var statements: [String] = []
        for resource in resources {
            let columns = columnsByResource[resource]!
            let head = "INSERT INTO \(table(resource)) (identity_key, " + columns.map(PostgresConnection.quoteIdentifier).joined(separator: ", ") + ") VALUES "
            let tail = " ON CONFLICT (identity_key) DO UPDATE SET "
                + columns.map { "\(PostgresConnection.quoteIdentifier($0)) = EXCLUDED.\(PostgresConnection.quoteIdentifier($0))" }.joined(separator: ", ")
            let rows = mapped.filter { $0.resource == resource }
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + upsertRowsPerStatement, rows.count)]
                var last: [String: Int] = [:]
                for (i, row) in zip(chunk.indices, chunk) { last[row.key] = i }
                let values = zip(chunk.indices, chunk).filter { last[$0.1.key] == $0.0 }.map { _, row in
                    "(" + ([literal(row.key)] + columns.map { literal(row.value($0)) }).joined(separator: ",") + ")"
                }
                statements.append(head + values.joined(separator: ",") + tail)
                start += upsertRowsPerStatement
            }
        }
        for resource in resources {
            try connection.execute("DROP TABLE IF EXISTS \(table(resource))")
            try connection.execute("CREATE TABLE \(table(resource)) (identity_key text PRIMARY KEY, "
                                   + columnsByResource[resource]!.map { PostgresConnection.quoteIdentifier($0) + " text" }.joined(separator: ", ") + ")")
        }
        let (seconds, wal) = try timed(connection) {
            for statement in statements { try connection.execute(statement) }
        }
        var rows = 0
        for resource in resources {
            rows += Int(try connection.query("SELECT count(*)::text AS n FROM \(table(resource))").first?["n"] ?? "0") ?? 0
            try connection.execute("DROP TABLE \(table(resource))")
        }
        return Reference(what: "INSERT ... ON CONFLICT DO UPDATE, \(upsertRowsPerStatement) rows/statement", seconds: seconds, rows: rows, walBytes: wal)
    }

    /// The three references for one file, in order: COPY unindexed, COPY keyed, upsert.
    static func references(_ entry: FileEntry, district: String, schema: MappingSchema, connection: PostgresConnection) throws -> [Reference] {
        let plan = try MappingValidator.load(file: "mappings/\(entry.adapter).json5", schema: schema)
        var results = [try copyUnindexed(entry, district: district, plan: plan, connection: connection)]
        progress("  COPY unindexed \(entry.file): \(rate(entry.records, results[0].seconds)) records/s")
        let mapped = try mappedRows(entry, district: district, plan: plan)
        results.append(try copyKeyed(mapped, plan: plan, connection: connection))
        progress("  COPY keyed \(entry.file): \(rate(entry.records, results[1].seconds)) records/s")
        results.append(try upsert(mapped, plan: plan, connection: connection))
        progress("  upsert \(entry.file): \(rate(entry.records, results[2].seconds)) records/s")
        return results
    }

    /// The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// The same-run comparison per file, as a Markdown table for docs/benchmarks.md.
    static func reportReferences(_ files: [FileEntry], first: [Run], references: [[Reference]], again: [Run],
                                 loadAtStart: String, loadAtEnd: String) {
        print("")
        print("Same run, same cluster, same file; load average at start \(loadAtStart), at end \(loadAtEnd).")
        print("Records/s counts the file's source records; \"import / this\" is the import's time over this row's.")
        print("")
        print("| File | What | Rows in table | Seconds | Records/s | Import / this | WAL bytes/record |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for (i, entry) in files.enumerated() {
            let imported = first[i]
            func wal(_ bytes: Int64) -> String { entry.records > 0 ? String(bytes / Int64(entry.records)) : "-" }
            print("| \(entry.file) | `recordonce import` | - | \(fixed(imported.seconds)) | \(rate(entry.records, imported.seconds)) | 1.00x | \(wal(imported.walBytes)) |")
            for reference in references.indices.contains(i) ? references[i] : [] {
                print("| \(entry.file) | \(reference.what) | \(reference.rows) | \(fixed(reference.seconds)) | \(rate(entry.records, reference.seconds)) | "
                      + "\(fixed(imported.seconds / reference.seconds))x | \(wal(reference.walBytes)) |")
            }
            print("| \(entry.file) | `recordonce import` again (\(again[i].events) events) | - | \(fixed(again[i].seconds)) | \(rate(entry.records, again[i].seconds)) | "
                  + "\(fixed(imported.seconds / again[i].seconds))x | \(wal(again[i].walBytes)) |")
        }
    }
}
