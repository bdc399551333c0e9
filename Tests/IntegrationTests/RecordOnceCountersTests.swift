import Foundation
@testable import Hub
import Testing

/// The record-once counters after a three-department load, checked against counts this test
/// works out from its own input with the catalog's ranking, not with the store's code.
@Suite struct RecordOnceCountersTests {
    typealias S = StewardshipHub

    /// The catalog's authorities for the fields the test departments send (mappings/catalog/resources/person.json5).
    static let ranks: [String: [String]] = [
        "citizen_id": ["police"], "name": ["police", "civil-affairs", "social-security", "health"],
        "sex": ["police", "social-security", "health"], "date_of_birth": ["police", "social-security", "health"],
        "marital_status": ["civil-affairs", "police"],
    ]
    static let sourceKeys = ["name": "name", "sex": "sex", "date_of_birth": "dob", "marital_status": "marital", "citizen_id": "id"]

    static func rank(_ department: String, _ field: String) -> Int {
        ranks[field]!.firstIndex(of: department) ?? ranks[field]!.count
    }

    /// What the district's three departments send: overlapping residents, mostly agreeing.
    static func input(seed: UInt64) -> [(adapter: String, department: String, records: [[String: String]])] {
        var random = SplitMix(seed: seed)
        let names = ["李", "王", "张", "刘", "陈"], maritals = ["10", "20", "21", "30", "40"]
        func dob(_ i: Int) -> String { "19\(70 + i % 25)-0\(1 + i % 9)-1\(i % 10)" }
        var police: [[String: String]] = [], civil: [[String: String]] = [], health: [[String: String]] = []
        for i in 0..<60 {
            let name = names[i % 5] + "某\(i)"
            if i % 5 != 4 {
                police.append(S.record(i, key: "p\(i)", ["name": name, "sex": "\(1 + i % 2)", "dob": dob(i), "marital": maritals[i % 5]]))
            }
            if i % 3 != 0 {
                civil.append(S.record(i, key: "c\(i)", ["name": random.chance(0.2) ? name + "甲" : name, "dob": random.chance(0.1) ? dob(i + 1) : dob(i),
                                                        "marital": random.chance(0.3) ? maritals[(i + 1) % 5] : maritals[i % 5]]))
            }
            if i % 2 == 0 {
                health.append(S.record(i, key: "h\(i)", ["name": random.chance(0.2) ? name + "乙" : name, "sex": random.chance(0.15) ? "9" : "\(1 + i % 2)",
                                                         "dob": random.chance(0.1) ? dob(i + 2) : dob(i)]))
            }
        }
        return [("st-police", "police", police), ("st-civil", "civil-affairs", civil), ("st-health", "health", health)]
    }

    /// Expected counts per "department|field": [new_fact, confirmation, authority_change, disagreement].
    static func expected(_ load: [(adapter: String, department: String, records: [[String: String]])]) -> [String: [Int]] {
        var golden: [String: (value: String, department: String)] = [:]
        var counts: [String: [Int]] = [:]
        for (adapter, department, records) in load {
            let fields = S.departments.first { $0.adapter == adapter }!.fields.keys + ["citizen_id"]
            for record in records {
                for field in fields {
                    let value = record[sourceKeys[field]!]!
                    let slot = record["id"]! + "|" + field, key = department + "|" + field
                    var c = counts[key, default: [0, 0, 0, 0]]
                    if let held = golden[slot] {
                        if held.value == value {
                            if held.department != department { c[1] += 1 }
                            if rank(department, field) < rank(held.department, field) { golden[slot] = (value, department) }
                        } else if rank(department, field) < rank(held.department, field) {
                            c[2] += 1
                            golden[slot] = (value, department)
                        } else {
                            c[3] += 1
                        }
                    } else {
                        c[0] += 1
                        golden[slot] = (value, department)
                    }
                    counts[key] = c
                }
            }
        }
        return counts
    }

    static func stats(_ hub: StewardshipHub) async throws -> (totals: [String: Any], rows: [String: [Int]]) {
        let stats = try await hub.get("/v1/stats/record-once")
        var rows: [String: [Int]] = [:]
        for row in stats["departments"] as? [[String: Any]] ?? [] {
            #expect(row["resource"] as? String == "Person")
            rows["\(row["department"]!)|\(row["field"]!)"] = ["new_fact", "confirmation", "authority_change", "disagreement"].map { row[$0] as? Int ?? -1 }
        }
        return (stats["totals"] as? [String: Any] ?? [:], rows)
    }

    @Test func countersAfterAThreeDepartmentLoadMatchTheInput() async throws {
        let load = Self.input(seed: 12)
        let expected = Self.expected(load)
        var hub: StewardshipHub? = try StewardshipHub()
        let url = hub!.test.hub.databaseURL

        // The police register comes in as a file through the import path, in several batches;
        // the other two push over HTTP.
        let file = hub!.test.folder + "/police.json"
        try JSONSerialization.data(withJSONObject: load[0].records).write(to: URL(fileURLWithPath: file))
        let imported = try hub!.test.hub.ingest.importFile(adapterID: "st-police", path: file, batchSize: 7)
        #expect(imported.accepted == load[0].records.count && imported.batches > 1)
        for part in load.dropFirst() { try await hub!.push(part.adapter, part.records) }

        var (totals, rows) = try await Self.stats(hub!)
        #expect(rows == expected)
        let sum = { (i: Int) in expected.values.reduce(0) { $0 + $1[i] } }
        #expect(totals["new_fact"] as? Int == sum(0) && totals["confirmation"] as? Int == sum(1)
                && totals["authority_change"] as? Int == sum(2) && totals["disagreement"] as? Int == sum(3))
        #expect(sum(1) > 0 && sum(2) > 0 && sum(3) > 0, "the input should exercise every kind")
        let share = (totals["reuse_share"] as? Double) ?? -1
        #expect(abs(share - Double(sum(1)) / Double(sum(0) + sum(1))) < 0.0001)
        // Disagreements are the conflicts the load opened (one per entity, field and department here).
        let conflicts = try await hub!.get("/v1/conflicts?status=all&limit=1000")["conflicts"] as? [[String: Any]] ?? []
        #expect(conflicts.count == sum(3))

        // A re-delivery is not an observation.
        let again = try await hub!.push(load[2].adapter, load[2].records)
        #expect(again.member("totals", "unchanged") as? Int == load[2].records.count)
        #expect(try await Self.stats(hub!).rows == expected)

        // /metrics exports them as counters.
        let metrics = try await httpRequest(hub!.base + "/metrics").text
        #expect(metrics.contains("# TYPE recordonce_record_once_observations_total counter"))
        let policeNames = expected["police|name"]![0]
        #expect(metrics.contains("recordonce_record_once_observations_total{department=\"police\",resource=\"Person\",field=\"name\",kind=\"new_fact\"} \(policeNames)"),
                "\(metrics)")

        // The counters survive a restart: they are in the database, written with each batch.
        hub!.test.hub.stop()
        hub = nil
        hub = try StewardshipHub(databaseURL: url)
        (totals, rows) = try await Self.stats(hub!)
        #expect(rows == expected)
    }
}
