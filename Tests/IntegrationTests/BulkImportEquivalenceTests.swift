import Adapters
import DemoDepartments
import Foundation
import Hub
import Mapping
import RecordStore
import SourceFormats
import Store
import Telemetry
import Testing

/// The bulk import path (`IngestService.importFile`, what `recordonce import` runs) and the
/// per-batch path (`RecordStore.ingest`, one call per batch, what a push does) must leave the same
/// store behind: the same random department files go through each into its own fresh database,
/// then everything a reader can see is compared.
///
/// The files come from a small synthetic district (DemoDepartments) with realistic messiness, cut
/// into two deliveries per department: the second repeats some records unchanged, changes others
/// (police and health: names and addresses, so health's names open conflicts against police),
/// and brings the rest; both hold exact duplicates and malformed or invalid records. Community
/// visit notes without a usable citizen ID go to matching. A key never has two different
/// contents within one file, so what is compared does not depend on where batches end.
@Suite(.serialized) struct BulkImportEquivalenceTests {
    /// One file to import and the adapter that reads it.
    struct Delivery {
        var adapter: String
        var path: String
    }

    /// An ingest service over its own fresh database, with the repository's catalog and mappings.
    final class Side {
        let url: String
        let pool: ConnectionPool
        let service: IngestService

        /// `existingSlice`: how many existing entities survivorship holds at once; `firstVersions`:
        /// whether the reader prepares first versions ahead (any value of either stores the same).
        init(adapters: String, existingSlice: Int = RecordStore.defaultExistingSlice, firstVersions: FirstVersionUse.Mode = .adaptive) throws {
            url = try TestDatabase.migrated(Schema.migrations)
            var config = HubConfiguration()
            config.catalogDirectory = RepositoryRoot.path + "/mappings/catalog"
            config.mappingsDirectory = RepositoryRoot.path + "/mappings"
            config.adaptersDirectory = adapters
            let registry = try IngestRegistry.load(config, logger: .silent)
            pool = ConnectionPool(url: url, maxConnections: 4)
            service = IngestService(registry: registry, store: RecordStore(pool: pool, rules: registry.rules, existingSlice: existingSlice,
                                                                                   firstVersions: firstVersions))
        }

        deinit { pool.close() }
    }

    /// What an import reports, summed over the files.
    struct Totals: Equatable, CustomStringConvertible {
        var records = 0, accepted = 0, unchanged = 0, rejected = 0, skipped = 0, events = 0, conflicts = 0
        var description: String {
            "records \(records) accepted \(accepted) unchanged \(unchanged) rejected \(rejected) skipped \(skipped) events \(events) conflicts \(conflicts)"
        }
    }

    // MARK: the property

    @Test func bulkAndPerBatchImportsOfRandomDepartmentFilesLeaveTheSameStore() throws {
        let seeds: [UInt64]
        if let fixed = ProcessInfo.processInfo.environment["RECORDONCE_EQUIVALENCE_SEED"], let seed = UInt64(fixed) {
            seeds = [seed]
        } else {
            // One fixed seed whose files and batch size make the bulk side write batches beside
            // the one before them, some sharing entities with it; two random ones.
            seeds = [Self.besideSeed] + (0..<2).map { _ in UInt64.random(in: 1...UInt64(UInt32.max)) }
        }
        for seed in seeds {
            let started = Date()
            let (differences, totals, beside, shared) = try Self.runBothPaths(seed: seed)
            #expect(differences.isEmpty, """
                seed \(seed) (replay: RECORDONCE_EQUIVALENCE_SEED=\(seed) swift test --skip-build --filter BulkImportEquivalenceTests): \
                the bulk and per-batch imports differ:
                \(differences.joined(separator: "\n"))
                """)
            // The generated files exercise what they are meant to (a weak generator proves nothing).
            #expect(totals.rejected > 0 && totals.unchanged > 0 && totals.conflicts > 0 && totals.events > totals.accepted / 2,
                    "seed \(seed): \(totals)")
            if seed == Self.besideSeed {
                // Two batches were in their transactions at once, and some entities were written by both.
                #expect(beside > 0 && shared > 0, "seed \(seed): \(beside) batches written beside the one before, \(shared) entities shared")
            }
            print("BulkImportEquivalenceTests: seed \(seed) equal (\(totals); \(beside) batches written beside the one before, \(shared) entities shared) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }

    /// The comparison is not blind: one change event removed from one side is reported.
    @Test func aDroppedChangeEventIsReported() throws {
        let folder = try temporaryFolder("ro-equiv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let adapters = try Self.adaptersFolder(in: folder)
        let deliveries = try Self.generate(seed: 14, residents: 80, into: folder)
        let a = try Side(adapters: adapters), b = try Side(adapters: adapters)
        for delivery in deliveries {
            _ = try Self.bulk(delivery, side: a, batchSize: 50)
            _ = try Self.perBatch(delivery, side: b, batchSize: 50)
        }
        #expect(try Self.compare(Self.snapshot(a.url), Self.snapshot(b.url)).isEmpty)

        let connection = try PostgresConnection(url: b.url)
        let head = try ChangeLog.head(connection)
        #expect(head > 10)
        try connection.execute("DELETE FROM change_log WHERE position = $1", [head / 2])
        let differences = try Self.compare(Self.snapshot(a.url), Self.snapshot(b.url))
        #expect(differences.contains { $0.hasPrefix("positions:") }, "\(differences)")
        #expect(differences.contains { $0.hasPrefix("events:") }, "\(differences)")
    }

    /// A batch written beside the one before it that waits too long for it rolls back and is
    /// written again after it; the store ends the same as with one batch at a time. Here the
    /// police file is loaded first, then another connection holds the people of the health
    /// file's first batch locked for 4 s: that batch waits in its head, and the second one (the
    /// two are independent) gives up waiting for it.
    @Test func aBatchThatGivesUpWaitingIsWrittenAgainAfterTheOneBefore() throws {
        let folder = try temporaryFolder("ro-equiv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let adapters = try Self.adaptersFolder(in: folder)
        let deliveries = try Self.generate(seed: Self.besideSeed, residents: 120, into: folder)
        let police = try #require(deliveries.first { $0.adapter == "police-hukou" })
        let health = try #require(deliveries.first { $0.adapter == "health-records" })
        let a = try Side(adapters: adapters), b = try Side(adapters: adapters)
        _ = try Self.bulk(police, side: a, batchSize: 20)
        _ = try Self.perBatch(police, side: b, batchSize: 20)

        let firstBatch = try String(contentsOfFile: health.path, encoding: .utf8).split(separator: "\n").prefix(20)
        let ids = firstBatch.compactMap { (FeedTesting.json(String($0))["sfzh"] as? String)?.uppercased() }
        let holder = try PostgresConnection(url: a.url)
        try holder.execute("BEGIN")
        let held = try holder.query("SELECT id FROM entities WHERE resource = 'Person' AND identity_key = ANY($1::text[]) FOR UPDATE", [ids])
        #expect(held.rows.count > 5, "the first batch's people were not found (\(held.rows.count))")
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 4)
            try? holder.execute("COMMIT")
            release.signal()
        }
        let bulk = try a.service.importFile(adapterID: health.adapter, path: health.path, batchSize: 20, besideWait: 0.2)
        release.wait()
        _ = try Self.perBatch(health, side: b, batchSize: 20)
        #expect(bulk.besideRetried > 0, "no batch gave up waiting (\(bulk.besidePrevious) written beside the one before)")
        let differences = try Self.compare(Self.snapshot(a.url, eventSequence: true), Self.snapshot(b.url, eventSequence: true))
        #expect(differences.isEmpty, "\(differences)")
    }

    // MARK: the two paths

    static let besideSeed: UInt64 = 1782033004

    static func runBothPaths(seed: UInt64) throws -> (differences: [String], totals: Totals, beside: Int, shared: Int) {
        let folder = try temporaryFolder("ro-equiv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = SplitMix(seed: seed)
        let adapters = try adaptersFolder(in: folder)
        let deliveries = try generate(seed: seed, residents: 150 + rng.int(150), into: folder)
        let batchSize = 7 + rng.int(120)
        // The bulk side merges a batch's existing entities a few at a time and makes every first
        // version on the writer; the per-batch side merges them all at once and prepares every
        // first version ahead.
        let a = try Side(adapters: adapters, existingSlice: 1 + rng.int(6), firstVersions: .never)
        let b = try Side(adapters: adapters, existingSlice: .max, firstVersions: .always)
        var bulkTotals = Totals(), perBatchTotals = Totals(), beside = 0, shared = 0
        for delivery in deliveries {
            let p = try bulk(delivery, side: a, batchSize: batchSize)
            bulkTotals.records += p.records; bulkTotals.accepted += p.accepted; bulkTotals.unchanged += p.unchanged
            bulkTotals.rejected += p.rejected; bulkTotals.skipped += p.skipped; bulkTotals.events += p.events
            bulkTotals.conflicts += p.conflicts
            beside += p.besidePrevious
            shared += p.entitiesAfterPrevious
            let t = try perBatch(delivery, side: b, batchSize: batchSize)
            perBatchTotals.records += t.records; perBatchTotals.accepted += t.accepted; perBatchTotals.unchanged += t.unchanged
            perBatchTotals.rejected += t.rejected; perBatchTotals.skipped += t.skipped; perBatchTotals.events += t.events
            perBatchTotals.conflicts += t.conflicts
        }
        var differences = try compare(snapshot(a.url, eventSequence: true), snapshot(b.url, eventSequence: true), keep: "/tmp/ro-equivalence-\(seed)")
        if bulkTotals != perBatchTotals {
            differences.append("import summaries: bulk \(bulkTotals); per batch \(perBatchTotals)")
        }
        return (differences, perBatchTotals, beside, shared)
    }

    /// Path A: the file through the bulk import.
    static func bulk(_ delivery: Delivery, side: Side, batchSize: Int) throws -> IngestService.ImportProgress {
        try side.service.importFile(adapterID: delivery.adapter, path: delivery.path, batchSize: batchSize)
    }

    /// Path B: the file read as an import reads it, stored one `RecordStore.ingest` per batch.
    static func perBatch(_ delivery: Delivery, side: Side, batchSize: Int) throws -> Totals {
        let (declaration, plan) = try side.service.adapter(delivery.adapter)
        var options = plan.source.readOptions
        if options.format == .json, SourceFormat(fileName: delivery.path) == .ndjson {
            options.format = .ndjson
            options.recordsPath = nil
        }
        let reader: any SourceRecordReader = options.format == .xml
            ? try SourceReaders.open(path: delivery.path, options: options)
            : try SourceReaders.reader(source: ByteSource(path: delivery.path), options: options)
        var totals = Totals()
        var items: [SourceReadItem] = []
        func flush() throws {
            guard !items.isEmpty else { return }
            let outcome = try side.service.store.ingest(items, adapter: IngestSource(declaration), plan: plan)
            totals.records += items.count
            totals.accepted += outcome.count(.accepted)
            totals.unchanged += outcome.count(.unchanged)
            totals.rejected += outcome.count(.rejected)
            totals.skipped += outcome.count(.skipped)
            totals.events += outcome.events
            totals.conflicts += outcome.conflicts
            items.removeAll()
        }
        while let item = reader.next() {
            items.append(item)
            if items.count >= batchSize { try flush() }
        }
        try flush()
        return totals
    }

    // MARK: the random department files

    /// The repository's adapters plus community visit notes (a matchable mapping), in a folder.
    static func adaptersFolder(in folder: String) throws -> String {
        let adapters = folder + "/adapters"
        try FileManager.default.createDirectory(atPath: adapters, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: RepositoryRoot.path + "/adapters") where name.hasSuffix(".json5") {
            try FileManager.default.copyItem(atPath: RepositoryRoot.path + "/adapters/" + name, toPath: adapters + "/" + name)
        }
        try #"{ id: "community-visits", department: "civil-affairs", mapping: "community-visits.json5", token: { sha256: "\#(String(repeating: "0", count: 64))" } }"#
            .write(toFile: adapters + "/community-visits.json5", atomically: true, encoding: .utf8)
        return adapters
    }

    /// Field that holds the citizen ID in each department's records (the one made invalid).
    static func idField(_ department: DepartmentSystem) -> String {
        switch department {
        case .policeHukou: "GMSFHM"
        case .socialSecurity: "AAC002"
        case .healthRecords: "sfzh"
        case .civilDibao: "户主身份证号"
        case .civilMarriage: "男方身份证号"
        case .civilDeath: "身份证号"
        }
    }

    /// Writes two deliveries per department and two of visit notes; returns them in import order
    /// (every department's first file before its second).
    static func generate(seed: UInt64, residents: Int, into folder: String) throws -> [Delivery] {
        var rng = SplitMix(seed: seed ^ 0x5EED)
        var messiness = Messiness.realistic
        messiness.excelDamagedID = 0.02
        let views = DepartmentViews(district: SyntheticDistrict(seed: seed, residents: residents), messiness: messiness)
        var firsts: [Delivery] = [], seconds: [Delivery] = []
        var police: [DepartmentRecord] = []
        for department in DepartmentSystem.allCases {
            var all: [DepartmentRecord] = []
            for h in 0..<views.district.householdCount { all += views.records(department, household: h) }
            if department == .policeHukou { police = all }
            var first: [DepartmentRecord] = [], second: [DepartmentRecord] = []
            for record in all { if rng.chance(0.7) { first.append(record) } else { second.append(record) } }
            // Unchanged repeats in the second delivery; changes of police and health records.
            let secondIDs = Set(second.compactMap { $0[idField(department)] })
            for record in first where rng.chance(0.12) { second.append(record) }
            if department == .policeHukou || department == .healthRecords {
                let nameField = department == .policeHukou ? "XM" : "xm"
                for record in first where rng.chance(0.1) && !secondIDs.contains(record[idField(department)] ?? "") {
                    var changed = record
                    let field = department == .policeHukou && rng.chance(0.4) ? "ZZ" : nameField
                    if let i = changed.fields.firstIndex(where: { $0.name == field }), case .text(let text) = changed.fields[i].value {
                        changed.fields[i].value = .text(field == nameField ? String(text.dropLast()) + pick(&rng, "明", "华", "新") : text + "附\(1 + rng.int(9))号")
                        if let j = second.firstIndex(of: record) { second.remove(at: j) }
                        second.append(changed)
                    }
                }
            }
            // Invalid citizen IDs: rejected by the mapping (in both deliveries).
            for k in 0..<2 {
                var list = k == 0 ? first : second
                for i in list.indices where rng.chance(0.03) {
                    if let j = list[i].fields.firstIndex(where: { $0.name == idField(department) }) {
                        list[i].fields[j].value = .text(pick(&rng, "51010819", "5101081990010100AA", "ABCDEFGHIJKLMNOPQR"))
                    }
                }
                // Exact duplicates later in the same file.
                for record in list where rng.chance(0.04) { list.insert(record, at: rng.int(list.count + 1)) }
                shuffleTail(&list, &rng)
                if k == 0 { first = list } else { second = list }
            }
            for (k, list) in [first, second].enumerated() {
                let path = folder + "/\(k + 1)-" + department.fileName
                try write(list, department: department, to: path, rng: &rng)
                if k == 0 { firsts.append(Delivery(adapter: department.adapterID, path: path)) } else { seconds.append(Delivery(adapter: department.adapterID, path: path)) }
            }
        }
        // Community visit notes: some with a clean ID, most without a usable one (matching).
        var visited = police.filter { _ in rng.chance(0.15) }
        for k in 0..<2 {
            let chosen = visited.filter { _ in rng.chance(0.5) }
            visited.removeAll { record in chosen.contains(record) }
            var lines: [String] = []
            for (n, record) in chosen.enumerated() {
                var fields: [(String, String)] = [("visit_id", "V\(k)-\(n)")]
                let id = record["GMSFHM"] ?? ""
                switch rng.int(4) {
                case 0: fields.append(("id_number", id))
                case 1: fields.append(("id_number", "5.10108E+17"))
                case 2: if id.count == 18 { fields.append(("id_number", String(id.dropLast()) + (id.last == "1" ? "2" : "1"))) }
                default: break
                }
                let name = record["XM"] ?? ""
                fields.append(("name", rng.chance(0.8) ? name : String(name.dropLast()) + "华"))
                if let sex = record["XB"], rng.chance(0.8) { fields.append(("sex", sex)) }
                if let birth = record["CSRQ"] { fields.append(("birth_date", birth)) }
                fields.append(("phone", "139\(String(format: "%08d", rng.int(100_000_000)))"))
                fields.append(("address", "走访路\(1 + rng.int(200))号"))
                lines.append(json(fields.map { SourceField($0.0, $0.1) }))
            }
            if rng.chance(0.5) { lines.insert(#"{"visit_id": "broken"#, at: rng.int(lines.count + 1)) }
            let path = folder + "/\(k + 1)-community-visits.ndjson"
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            if k == 0 { firsts.append(Delivery(adapter: "community-visits", path: path)) } else { seconds.append(Delivery(adapter: "community-visits", path: path)) }
        }
        // The police register's first delivery first (so visit notes find candidates), the rest shuffled.
        let head = firsts.removeFirst()
        shuffleTail(&firsts, &rng)
        shuffleTail(&seconds, &rng)
        return [head] + firsts + seconds
    }

    static func pick(_ rng: inout SplitMix, _ items: String...) -> String { rng.pick(items) }

    static func shuffleTail<T>(_ list: inout [T], _ rng: inout SplitMix) {
        guard list.count > 1 else { return }
        for i in stride(from: list.count - 1, to: 0, by: -1) { list.swapAt(i, rng.int(i + 1)) }
    }

    /// One department file in its system's format; NDJSON files also get an unreadable line.
    static func write(_ records: [DepartmentRecord], department: DepartmentSystem, to path: String, rng: inout SplitMix) throws {
        switch department {
        case .policeHukou, .healthRecords:
            var lines = records.map { json($0.fields) }
            lines.insert(#"{"\#(idField(department))": "5101"#, at: rng.int(lines.count + 1))
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        case .socialSecurity:
            var out = """
                <?xml version="1.0" encoding="UTF-8"?>
                <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
                  <soap:Body>
                    <queryPersonInsuranceResponse xmlns="http://si.example.gov.cn/ws">
                      <resultCode>0</resultCode>

                """
            for record in records { out += xml("AC01", record.fields, indent: "      ") }
            out += "      <total>\(records.count)</total>\n    </queryPersonInsuranceResponse>\n  </soap:Body>\n</soap:Envelope>\n"
            try out.write(toFile: path, atomically: true, encoding: .utf8)
        case .civilDibao, .civilMarriage, .civilDeath:
            guard let header = records.first?.fields.map(\.name) else {
                try Data().write(to: URL(fileURLWithPath: path))
                return
            }
            var text = csv(header)
            for record in records {
                text += csv(record.fields.map { if case .text(let t) = $0.value { t } else { "" } })
            }
            guard let data = text.data(using: String.Encoding(rawValue: 0x8000_0632)) else { throw TestFailure("cannot encode GB18030") }
            try data.write(to: URL(fileURLWithPath: path))
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func json(_ fields: [SourceField]) -> String {
        "{" + fields.map { field in
            let value: String
            switch field.value {
            case .text(let text): value = quoted(text)
            case .bool(let flag): value = flag ? "true" : "false"
            case .null: value = "null"
            case .object(let members): value = json(members)
            }
            return quoted(field.name) + ":" + value
        }.joined(separator: ",") + "}"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func xml(_ element: String, _ fields: [SourceField], indent: String) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = indent + "<\(element)>\n"
        for field in fields {
            switch field.value {
            case .null: out += indent + "  <\(field.name) xsi:nil=\"true\"/>\n"
            case .text(let text): out += indent + "  <\(field.name)>\(escape(text))</\(field.name)>\n"
            case .bool(let flag): out += indent + "  <\(field.name)>\(flag)</\(field.name)>\n"
            case .object(let members): out += xml(field.name, members, indent: indent + "  ")
            }
        }
        return out + indent + "</\(element)>\n"
    }

    static func csv(_ texts: [String]) -> String {
        texts.map { text in
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }.joined(separator: ",") + "\r\n"
    }

    // MARK: what a reader can see

    /// Everything a reader of the store can see, by section, each a sorted list of lines; ids,
    /// sequence numbers and times left out, entities named by resource and identity key.
    /// With `eventSequence`, also the whole change log in position order (which entity, which
    /// version): two imports that cut a file into the same batches append the same sequence.
    static func snapshot(_ url: String, eventSequence: Bool = false) throws -> [String: [String]] {
        let c = try PostgresConnection(url: url)
        func rows(_ sql: String) throws -> [[String?]] {
            let result = try c.query(sql)
            return result.rows.map { row in result.columns.indices.map { row[$0] } }
        }
        var entityNames: [String: String] = [:]
        for row in try rows("SELECT id::text, resource || '/' || identity_key FROM entities") { entityNames[row[0]!] = row[1]! }
        var caseNames: [String: String] = [:]
        for row in try rows("SELECT id::text, adapter || '/' || resource || '/' || source_key || '/' || position FROM match_cases") {
            caseNames[row[0]!] = row[1]!
        }
        let names = Normalizer(entities: entityNames, cases: caseNames)
        var sections: [String: [String]] = [:]
        func section(_ name: String, _ sql: String, _ line: ([String?]) -> String) throws {
            sections[name] = try rows(sql).map(line).sorted()
        }
        try section("entities", "SELECT id::text, version::text, record::text, provenance::text FROM entities") { r in
            "\(names.entity(r[0])) v\(r[1]!) \(names.json(r[2])) \(names.json(r[3]))"
        }
        try section("entity versions", "SELECT entity_id::text, version::text, record::text, provenance::text FROM entity_versions") { r in
            "\(names.entity(r[0])) v\(r[1]!) \(names.json(r[2])) \(names.json(r[3]))"
        }
        try section("landing", "SELECT adapter, source_key, encode(content_hash, 'hex'), status, mapping_version::text FROM landing") { r in
            r.map { $0 ?? "NULL" }.joined(separator: " ")
        }
        // Kept source content (for replay): which records each adapter has, not how batches cut them.
        var kept: Set<String> = []
        for r in try rows("SELECT adapter, mapping_version::text, content FROM landing_batches") {
            for line in r[2]!.split(separator: "\n") { kept.insert("\(r[0]!) m\(r[1]!) \(line)") }
        }
        sections["kept content"] = kept.sorted()
        try section("rejects", "SELECT adapter, source_key, position, issues::text, record::text, encode(fingerprint, 'hex'), status FROM rejects") { r in
            "\(r[0]!) \(r[1] ?? "NULL") \(r[2]!) \(names.json(r[3])) \(names.json(r[4])) \(r[5]!) \(r[6]!)"
        }
        try section("conflicts", "SELECT entity_id::text, resource, field, golden::text, challenger::text, challenger_adapter, status, coalesce(decision, '-') FROM conflicts") { r in
            "\(names.entity(r[0])) \(r[1]!) \(r[2]!) \(names.json(r[3])) \(names.json(r[4])) \(r[5]!) \(r[6]!) \(r[7]!)"
        }
        try section("match cases", """
            SELECT adapter, department, resource, source_key, position, mapping, mapping_version::text, record::text, blocks::text,
                   auto_link::text, outcome, candidates::text, coalesce(score::text, '-'), status, linked_entity::text FROM match_cases
            """) { r in
            r[0..<7].map { $0 ?? "NULL" }.joined(separator: " ") + " \(names.json(r[7])) \(r[8]!) \(r[9]!) \(r[10]!) \(names.json(r[11])) \(r[12]!) \(r[13]!) \(names.entity(r[14]))"
        }
        try section("match keys", "SELECT resource, block, entity_id::text FROM match_keys") { r in "\(r[0]!) \(r[1]!) \(names.entity(r[2]))" }
        try section("record-once counts", "SELECT department, resource, field, new_fact::text, confirmation::text, authority_change::text, disagreement::text FROM record_once_counts") { r in
            r.map { $0 ?? "NULL" }.joined(separator: " ")
        }
        // Change events: gap-free positions up to the head, and per entity its events in commit order.
        let positions = try rows("SELECT l.position::text FROM change_log l ORDER BY l.position").map { Int64($0[0]!)! }
        let head = try ChangeLog.head(c)
        var gaps: [String] = []
        if positions != Array(stride(from: Int64(1), through: head, by: 1)) {
            var expected: Int64 = 1
            for position in positions where position == expected { expected += 1 }
            gaps.append("\(positions.count) events, head \(head), first missing position \(expected)")
        }
        sections["positions"] = gaps
        var perEntity: [String: [String]] = [:]
        var versions: [String: [Int]] = [:]
        for r in try rows("SELECT entity_id, resource, version::text, operation, changed_fields::text, record::text, sources::text FROM change_log ORDER BY position") {
            let name = names.entity(r[0])
            perEntity[name, default: []].append("v\(r[2]!) \(r[3]!) \(r[4]!) \(names.json(r[5])) \(names.json(r[6]))")
            versions[name, default: []].append(Int(r[2]!)!)
        }
        sections["events"] = perEntity.keys.sorted().map { "\($0): " + perEntity[$0]!.joined(separator: " | ") }
        // Commit order per entity: its versions appear in the log in increasing order.
        sections["event order"] = versions.filter { $0.value != $0.value.sorted() || Set($0.value).count != $0.value.count }.keys.sorted()
        if eventSequence {
            try section("event sequence", "SELECT position::text, entity_id::text, version::text FROM change_log") { r in
                "\(r[0]!) \(names.entity(r[1])) v\(r[2]!)"
            }
        }
        return sections
    }

    /// Makes JSON comparable across databases: times dropped, keys sorted, entity ids and match case
    /// ids replaced by their natural names.
    struct Normalizer {
        let entities: [String: String]
        let cases: [String: String]
        static let volatile: Set<String> = ["observed_at", "created_at", "updated_at", "decided_at"]

        func entity(_ id: String?) -> String {
            guard let id else { return "NULL" }
            return entities[id].map { "<\($0)>" } ?? "<unknown entity>"
        }

        func json(_ text: String?) -> String {
            guard let text else { return "NULL" }
            guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
                  let data = try? JSONSerialization.data(withJSONObject: normalize(value, key: nil), options: [.sortedKeys, .fragmentsAllowed]) else {
                return text
            }
            return String(decoding: data, as: UTF8.self)
        }

        func normalize(_ value: Any, key: String?) -> Any {
            switch value {
            case let object as [String: Any]:
                var out: [String: Any] = [:]
                for (k, v) in object where !Self.volatile.contains(k) { out[k] = normalize(v, key: k) }
                return out
            case let array as [Any]:
                return array.map { normalize($0, key: key) }
            case let text as String:
                return entities[text].map { "<\($0)>" } ?? text
            case let number as NSNumber where key == "case":
                return cases[number.stringValue].map { "<case \($0)>" } ?? number
            default:
                return value
            }
        }
    }

    /// The sections that differ, each with counts only (the full lines go to files under `keep`).
    static func compare(_ a: [String: [String]], _ b: [String: [String]], keep: String? = nil,
                        names: (String, String) = ("bulk", "per batch")) throws -> [String] {
        let (nameA, nameB) = names
        var differences: [String] = []
        for name in Set(a.keys).union(b.keys).sorted() {
            let left = a[name] ?? [], right = b[name] ?? []
            guard left != right else { continue }
            let leftSet = Set(left), rightSet = Set(right)
            let onlyLeft = left.filter { !rightSet.contains($0) }.count, onlyRight = right.filter { !leftSet.contains($0) }.count
            if name == "positions" || name == "event order" {
                differences.append("\(name): \(nameA) \(left.isEmpty ? "ok" : left.joined(separator: "; ")), \(nameB) \(right.isEmpty ? "ok" : right.joined(separator: "; "))")
            } else {
                differences.append("\(name): \(left.count) lines \(nameA), \(right.count) \(nameB); \(onlyLeft) only \(nameA), \(onlyRight) only \(nameB)")
            }
            if let keep {
                let file = keep + "-" + name.replacingOccurrences(of: " ", with: "-")
                try left.joined(separator: "\n").write(toFile: file + "." + nameA.replacingOccurrences(of: " ", with: "-") + ".txt", atomically: true, encoding: .utf8)
                try right.joined(separator: "\n").write(toFile: file + "." + nameB.replacingOccurrences(of: " ", with: "-") + ".txt", atomically: true, encoding: .utf8)
                differences[differences.count - 1] += " (see \(file).*.txt)"
            }
        }
        return differences
    }
}
