import Foundation
import Testing

/// `recordonce conflict list|summary|show|resolve` and `recordonce record correct`, run as an
/// admin runs them, against a real hub.
@Suite struct StewardshipCommandLineTests {
    typealias S = StewardshipHub

    @Test func conflictsAreListedCountedAndDecidedFromTheCommandLine() async throws {
        let hub = try StewardshipHub()
        try await hub.push("st-police", (0..<3).map { S.record($0, key: "p\($0)", ["name": "周\($0)", "sex": "1", "dob": "1990-01-01", "marital": "10"]) })
        try await hub.push("st-health", (0..<3).map { S.record($0, key: "h\($0)", ["name": "週\($0)", "sex": $0 == 0 ? "2" : "1", "dob": "1990-01-01"]) })
        let env = ["RECORDONCE_ADMIN_TOKEN": hub.token, "RECORDONCE_URL": hub.base]

        let summary = try Binary.run(["conflict", "summary"], environment: env)
        #expect(summary.status == 0, "\(summary.stderr)")
        #expect(summary.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
                == ["COUNT FIELD GOLDEN CHALLENGER", "3 Person.name police health", "1 Person.sex police health"])

        let list = try Binary.run(["conflict", "list", "--field", "name"], environment: env)
        #expect(list.status == 0 && list.stdout.split(separator: "\n").count == 4, "\(list.stdout)\(list.stderr)")
        #expect(!list.stdout.contains("週"), "the list prints no values")
        let json = try Binary.run(["conflict", "list", "--field", "name", "--format", "json"], environment: env)
        let conflicts = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["conflicts"] as? [[String: Any]] ?? []
        let ids = conflicts.compactMap { $0["id"] as? Int }
        #expect(ids.count == 3)

        let show = try Binary.run(["conflict", "show", String(ids[0])], environment: env)
        #expect((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["status"] as? String == "open")

        let set = try Binary.run(["conflict", "resolve", String(ids[0]), "--decision", "set_value", "--value", "周零", "--reason", "counter check"],
                                 environment: env)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.hasPrefix("conflict \(ids[0]) resolved: set_value on Person.name of "))
        #expect(try await hub.person(S.citizenID(0)).member("record", "name") as? String == "周零")
        // Refusals say why and exit 1: not open any more; a value that breaks the code table.
        let again = try Binary.run(["conflict", "resolve", String(ids[0]), "--decision", "keep_golden", "--reason", "x"], environment: env)
        #expect(again.status == 1 && again.stderr.contains("409"))
        let sexID = try #require(try await hub.conflicts("field=sex").first?["id"] as? Int)
        let bad = try Binary.run(["conflict", "resolve", String(sexID), "--decision", "set_value", "--value", "Q9", "--reason", "x"], environment: env)
        #expect(bad.status == 1 && bad.stderr.contains("code_table.sex") && !bad.stderr.contains("Q9"), "\(bad.stderr)")
        #expect(try Binary.run(["conflict", "resolve", String(sexID), "--decision", "keep_golden"], environment: env).status == 2)

        let dry = try Binary.run(["conflict", "resolve", "--all", "--field", "name", "--challenger-department", "health",
                                  "--decision", "take_challenger", "--reason", "cards", "--dry-run"], environment: env)
        #expect(dry.stdout == "dry run: would resolve 2 conflict(s); would change 2 golden value(s)\n", "\(dry.stdout)\(dry.stderr)")
        let bulk = try Binary.run(["conflict", "resolve", "--all", "--field", "name", "--decision", "take_challenger", "--reason", "cards"],
                                  environment: env)
        #expect(bulk.stdout == "resolved 2 conflict(s); changed 2 golden value(s)\n", "\(bulk.stdout)\(bulk.stderr)")

        let entity = try #require(try await hub.person(S.citizenID(1))["id"] as? String)
        let corrected = try Binary.run(["record", "correct", "Person", entity, "marital_status", "--value", "20", "--reason", "certificate"],
                                       environment: env)
        #expect(corrected.status == 0, "\(corrected.stderr)")
        #expect(try await hub.person(S.citizenID(1)).member("record", "marital_status") as? String == "20")
        let removed = try Binary.run(["record", "correct", "Person", entity, "marital_status", "--remove", "--reason", "wrong person"],
                                     environment: env)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try await hub.person(S.citizenID(1)).member("record", "marital_status") as? String == "10")

        // --help explains each decision.
        let help = try Binary.run(["conflict", "resolve", "--help"])
        for word in ["keep_golden", "take_challenger", "set_value", "override", "--dry-run", "--reason"] {
            #expect(help.stdout.contains(word), "conflict resolve --help does not mention \(word)")
        }
        #expect(try Binary.run(["record", "correct", "--help"]).stdout.contains("--remove"))
    }
}
