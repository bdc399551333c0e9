import Foundation
import Store
import Testing

/// `recordonce import` of the same file again changes nothing: no new version, no change event,
/// no landing row, no reject. A file in which some records changed changes exactly those.
@Suite(.serialized) struct ImportIdempotencyTests {
    static func counts(_ url: String) throws -> [String: Int] {
        let c = try PostgresConnection(url: url)
        var out: [String: Int] = [:]
        for table in ["entities", "entity_versions", "landing", "rejects", "conflicts", "match_cases", "change_log"] {
            out[table] = Int(try c.query("SELECT count(*)::text AS n FROM \(table)").first?["n"] ?? "") ?? -1
        }
        out["head"] = Int(try ChangeLog.head(c))
        return out
    }

    static func importFile(_ file: String, _ url: String) throws {
        let run = try Binary.run(ImportCrashTests.importArguments(file, url))
        #expect(run.status == 0, "recordonce import exited with \(run.status): \(run.stderr)")
    }

    /// Citizen IDs of persons who appear once in the export with a valid ID and are not a
    /// household head (so a new name changes the Person only, not the Household's head_name).
    static func changeableLines(_ lines: [String]) throws -> [(index: Int, id: String, name: String)] {
        var seen: [String: Int] = [:]
        var parsed: [(Int, String, String, Bool)] = []
        for (i, line) in lines.enumerated() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["GMSFHM"] as? String, let name = object["XM"] as? String else { continue }
            seen[id, default: 0] += 1
            parsed.append((i, id, name, object["YHZGX"] as? String == "户主"))
        }
        return parsed.filter { seen[$0.1] == 1 && $0.1.count == 18 && !$0.3 }.map { ($0.0, $0.1, $0.2) }
    }

    @Test func importingTheSameFileAgainChangesNothingAndAChangedFileChangesExactlyItsChanges() throws {
        let folder = try temporaryFolder("ro-idem")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/police.ndjson"
        try ImportCrashTests.writePoliceExport(persons: 1_500, to: file)
        let url = try TestDatabase.fresh()

        try Self.importFile(file, url)
        let first = try Self.counts(url)
        let firstSnapshot = try BulkImportEquivalenceTests.snapshot(url)
        #expect(first["head"]! > 1_500 && first["rejects"]! > 0, "\(first)")
        #expect(first["head"] == first["change_log"])

        // The same file again: nothing at all changes.
        try Self.importFile(file, url)
        #expect(try Self.counts(url) == first)
        let again = try BulkImportEquivalenceTests.compare(firstSnapshot, BulkImportEquivalenceTests.snapshot(url),
                                                                names: ("first import", "second import"))
        #expect(again.isEmpty, "a second import of the same file changed: \(again)")

        // Seven persons renamed: seven new versions, seven events, seven landing rows; nothing else.
        var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let candidates = try Self.changeableLines(lines)
        #expect(candidates.count > 100)
        let changed = stride(from: 3, to: candidates.count, by: candidates.count / 7).prefix(7).map { candidates[$0] }
        for person in changed {
            lines[person.index] = lines[person.index].replacingOccurrences(of: #""XM":"\#(person.name)""#, with: #""XM":"\#(person.name)改""#)
        }
        let changedFile = folder + "/police-changed.ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: changedFile, atomically: true, encoding: .utf8)
        try Self.importFile(changedFile, url)
        let afterChange = try Self.counts(url)
        var expected = first
        expected["head"]! += 7
        expected["change_log"]! += 7
        expected["landing"]! += 7
        expected["entity_versions"]! += 7
        #expect(afterChange == expected)

        let c = try PostgresConnection(url: url)
        let events = try c.query("""
            SELECT e.resource, e.identity_key, l.version, l.operation, array_to_string(l.changed_fields, ',') AS changed, e.record->>'name' AS name
            FROM change_log l JOIN entities e ON e.id::text = l.entity_id WHERE l.position > $1 ORDER BY l.position
            """, [Int64(first["head"]!)])
        #expect(events.count == 7 && Set(events.rows.map { $0["identity_key"] ?? "" }) == Set(changed.map(\.id)))
        for row in events.rows {
            #expect(row["resource"] == "Person" && row["operation"] == "updated" && row["version"] == "2" && row["changed"] == "name")
            #expect(row["name"]?.hasSuffix("改") == true)
        }
        // Every other entity is as it was: same version, record and provenance.
        let afterSnapshot = try BulkImportEquivalenceTests.snapshot(url)
        let untouched = { (lines: [String]) in lines.filter { line in !changed.contains { line.contains($0.id) } } }
        #expect(untouched(afterSnapshot["entities"]!) == untouched(firstSnapshot["entities"]!))

        // And the changed file again: nothing.
        try Self.importFile(changedFile, url)
        #expect(try Self.counts(url) == afterChange)
    }
}
