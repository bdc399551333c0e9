import Foundation
import Testing
@testable import Hub

/// `recordonce catalog check` and the same check at hub start: each kind of breaking change is
/// found with what it breaks and how many stored records it concerns; additions pass as notes.
@Suite struct CatalogCheckTests {
    /// A catalog in use with the federation's records loaded and a subscription granting
    /// Disability fields; then a changed copy of that catalog.
    struct Loaded {
        let setup: FederationSetup
        let databaseURL: String
        let changed: String
    }

    static func load() async throws -> Loaded {
        let setup = try FederationSetup()
        let hub = try setup.hub()
        #expect(try await hub.post("/v1/adapters", FederationSetup.declaration).status == 201)
        let push = try await hub.post("/v1/ingest/dpf-register", FederationSetup.records)
        #expect((try push.json()["totals"] as? [String: Any])?["accepted"] as? Int == 2, "\(push.text)")
        let subscription = """
            {"name": "disability services", "purpose": "Disability allowance outreach by the street office",
             "resources": ["Disability"], "fields": {"Disability": ["citizen_id", "category", "grade", "issue_date"]}}
            """
        let created = try await hub.post("/v1/subscriptions", subscription)
        #expect(created.status == 201, "\(created.text)")
        let databaseURL = hub.hub.databaseURL
        hub.hub.stop()

        // The changed catalog: Disability loses issue_date, renames certificate_number, gets an
        // optional note, a wider identity key and an integer grade; category code 4 goes, 8 comes.
        let changed = setup.folder + "/changed"
        try FileManager.default.copyItem(atPath: setup.catalog, toPath: changed)
        let disabilityFile = changed + "/resources/disability.json5"
        var disability = try String(contentsOfFile: disabilityFile, encoding: .utf8)
        disability = try Self.removing(field: "issue_date", from: disability)
        disability = disability
            .replacingOccurrences(of: "name: 'certificate_number'", with: "name: 'certificate_no'")
            .replacingOccurrences(of: "identityKey: ['citizen_id']", with: "identityKey: ['citizen_id', 'category']")
            .replacingOccurrences(of: "name: 'grade', type: 'code(disability_grade)'", with: "name: 'grade', type: 'integer'")
            .replacingOccurrences(of: "  ],\n}", with: """
                    {
                      name: 'note', type: 'string', sensitivity: 'special', sharing: 'not_shared', authorities: ['civil-affairs'],
                      description: { zh: '备注', en: 'Note' },
                    },
                  ],
                }
                """)
        try disability.write(toFile: disabilityFile, atomically: true, encoding: .utf8)
        let categoryFile = changed + "/codes/disability_category.json5"
        let category = try String(contentsOfFile: categoryFile, encoding: .utf8)
            .replacingOccurrences(of: "    { code: '4', label: '肢体残疾', en: 'physical' },\n", with: "")
            .replacingOccurrences(of: "    { code: '7',", with: "    { code: '8', label: '其他', en: 'other' },\n    { code: '7',")
        try category.write(toFile: categoryFile, atomically: true, encoding: .utf8)
        return Loaded(setup: setup, databaseURL: databaseURL, changed: changed)
    }

    /// The text without the field object whose name is `field`.
    static func removing(field: String, from text: String) throws -> String {
        let start = try #require(text.range(of: "    {\n      name: '\(field)'"))
        let end = try #require(text.range(of: "    },\n", range: start.upperBound..<text.endIndex))
        return text.replacingCharacters(in: start.lowerBound..<end.upperBound, with: "")
    }

    @Test func everyBreakingChangeIsReportedAtOnceWithWhatItBreaks() async throws {
        let loaded = try await Self.load()
        defer { loaded.setup.remove() }
        let run = try Binary.run(["catalog", "check", "--catalog", loaded.changed, "--mappings", loaded.setup.mappings,
                                  "--database-url", loaded.databaseURL, "--format", "json"])
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let changes = try #require(report["changes"] as? [[String: Any]])
        func change(_ kind: String, _ detail: String) -> [String: Any]? {
            changes.first { $0["kind"] as? String == kind && (($0["field"] as? String) == detail || ($0["code"] as? String) == detail
                                                               || ($0["resource"] as? String) == detail && $0["field"] is NSNull) }
        }
        // A removed field that the mapping writes, the subscription grants and 2 stored records hold.
        let removed = try #require(change("field_removed", "issue_date"), "\(changes)")
        #expect(removed["breaking"] as? Bool == true && removed["stored_records"] as? Int == 2)
        let removedBreaks = removed["breaks"] as? [String] ?? []
        #expect(removedBreaks.contains("mapping dpf-register"))
        #expect(removedBreaks.contains { $0.hasPrefix("subscription disability services") }, "\(removedBreaks)")
        // A renamed field: removed, with the likely new name.
        let renamed = try #require(change("field_removed", "certificate_number"))
        #expect(renamed["breaking"] as? Bool == true && renamed["stored_records"] as? Int == 2)
        #expect((renamed["message"] as? String)?.contains("renamed to certificate_no?") == true)
        // A removed code that one stored record holds.
        let code = try #require(change("code_removed", "4"))
        #expect(code["breaking"] as? Bool == true && code["stored_records"] as? Int == 1 && code["table"] as? String == "disability_category")
        // The identity key, over every stored Disability.
        let identity = try #require(change("identity_key_changed", "Disability"))
        #expect(identity["breaking"] as? Bool == true && identity["stored_records"] as? Int == 2)
        #expect(identity["breaks"] as? [String] == ["mapping dpf-register"])
        // A narrowed type (a code table's codes to integers).
        let narrowed = try #require(change("type_narrowed", "grade"))
        #expect(narrowed["breaking"] as? Bool == true && narrowed["stored_records"] as? Int == 2)
        // Notes: a new optional field, a new code.
        let added = try #require(change("field_added", "note"))
        #expect(added["breaking"] as? Bool == false)
        let newCode = try #require(change("code_added", "8"))
        #expect(newCode["breaking"] as? Bool == false)
        // Removed codes nothing holds are notes too (code 7 stays; 4 was the only one removed).
        #expect(report["breaking"] as? Int == changes.filter { $0["breaking"] as? Bool == true }.count)
        #expect(report["breaking"] as? Int == 5, "\(changes.map { $0["kind"]! })")

        // The text form says the same, one line per change, breaking ones first.
        let text = try Binary.run(["catalog", "check", "--catalog", loaded.changed, "--against", loaded.setup.catalog,
                                   "--mappings", loaded.setup.mappings])
        #expect(text.status == 1)
        let lines = text.stdout.split(separator: "\n").dropFirst()
        #expect(lines.first?.hasPrefix("BREAKING") == true && lines.last?.hasPrefix("note") == true, "\(text.stdout)")
        // Without a database, no stored counts: the removed code no mapping produces is then a note.
        #expect(text.stdout.contains("note code_removed: code '4' is removed from table disability_category"), "\(text.stdout)")
        // The unchanged catalog passes.
        let same = try Binary.run(["catalog", "check", "--catalog", loaded.setup.catalog, "--database-url", loaded.databaseURL,
                                   "--mappings", loaded.setup.mappings])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("0 breaking change(s), 0 note(s)"))
    }

    @Test func aHubStartingWithABreakingCatalogChangeStopsUnlessAccepted() async throws {
        let loaded = try await Self.load()
        defer { loaded.setup.remove() }
        func start(accept: Bool) throws -> TestHub {
            try TestHub(databaseURL: loaded.databaseURL, configure: { config in
                config.catalogDirectory = loaded.changed
                config.mappingsDirectory = loaded.setup.mappings
                config.acceptCatalogChanges = accept
            })
        }
        do {
            _ = try start(accept: false)
            Issue.record("the hub started with a breaking catalog change")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("5 breaking way(s)"), "\(message)")
            #expect(message.contains("field_removed: field Disability.issue_date is removed"))
            #expect(message.contains("--accept-catalog-changes"))
        }
        let accepted = try start(accept: true)
        accepted.hub.stop()
        // Accepted once, the changed catalog is the one in use: the next start has nothing to say.
        let again = try start(accept: false)
        again.hub.stop()
    }
}
