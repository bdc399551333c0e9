import Catalog
import DemoDepartments
import Foundation

/// `recordonce-bench matching`: the quality of identity matching on the synthetic district with
/// known truth. A department (health) holds records of a share of the residents; in a share of
/// them the citizen ID is removed, Excel-damaged or mistyped, names carry spaces or traditional
/// variants, and sex, division or mobile are missing or changed. Some residents are not in the
/// register at all. Each keyless record is matched against the register's blocking-key index with
/// each rule set, and the report gives precision and recall of automatic links and the share sent
/// to review. In memory: it measures the rules (the same `Matcher` the store uses), not the database.
enum MatchingQualityBenchmark {
    static let usage = """
    matching [--residents N] [--seed S] [--damaged SHARE] [--catalog DIR]
          Quality of identity matching for records without a usable citizen ID (docs/benchmarks.md):
          precision and recall of automatic links and the share sent to review, per rule set.
          Defaults: 100000 residents, seed 13, 10% of the health department's records damaged.
    """

    struct Record {
        let person: Int
        var values: [String: String]
        /// The resident is not in the register (a link can only be wrong).
        let unregistered: Bool
        /// Name and birth date survived unchanged (the population recall is measured on).
        let keepsNameAndBirth: Bool
    }

    static func run(_ arguments: [String]) -> Int32 {
        func option(_ name: String) -> String? {
            guard let i = arguments.firstIndex(of: "--" + name), i + 1 < arguments.count else { return nil }
            return arguments[i + 1]
        }
        let residents = Int(option("residents") ?? "") ?? 100_000
        let seed = UInt64(option("seed") ?? "") ?? 13
        let damagedShare = Double(option("damaged") ?? "") ?? 0.10
        let catalogDirectory = option("catalog") ?? "mappings/catalog"
        let catalog: Catalog
        do { catalog = try Catalog.load(directory: catalogDirectory) } catch {
            print("error: \(error)")
            return 1
        }
        guard let rules = catalog.resource("Person")?.matching else {
            print("error: the catalog's Person declares no match rules")
            return 1
        }
        let district = SyntheticDistrict(seed: seed, residents: residents)
        var random = SplitMix(state: seed &* 0x9E37_79B9 &+ 1)
        var traditional: [Character: Character] = [:]
        for entry in catalog.codeTable(rules.nameVariants ?? "")?.entries ?? [] {
            if let t = entry.code.first, let s = entry.label.first { traditional[s] = t }
        }

        // The register: every resident but 3% (moved in, never registered here).
        var register: [[String: String]] = []
        var registered: [Int: Int] = [:]
        var records: [Record] = []
        for i in 0..<district.residents {
            let p = district.person(i)
            let values = ["name": p.name, "sex": p.sex, "date_of_birth": iso(p.birthDate),
                          "registered_division": district.household(p.householdIndex).communityCode, "mobile": p.mobile]
            let isRegistered = random.chance(0.97)
            if isRegistered {
                registered[i] = register.count
                register.append(values)
            }
            // The health department knows 40% of residents; a share of its records lost the ID.
            guard random.chance(0.4), random.chance(damagedShare) else { continue }
            var seen = values
            var keeps = true
            switch random.int(10) {
            case 0: seen["name"] = String(p.name.map { traditional[$0] ?? $0 })
            case 1: seen["name"] = p.name.map(String.init).joined(separator: " ")
            case 2: seen["name"] = String(p.name.dropLast()) + "某"; keeps = false
            default: break
            }
            if random.chance(0.03) { seen["date_of_birth"] = iso(p.birthDate + 1); keeps = false }
            if random.chance(0.1) { seen["sex"] = nil }
            if random.chance(0.5) { seen["registered_division"] = nil }
            switch random.int(10) {
            case 0...3: break
            case 4: seen["mobile"] = "139" + String(format: "%08d", random.int(100_000_000))
            default: seen["mobile"] = nil
            }
            records.append(Record(person: i, values: seen, unregistered: !isRegistered, keepsNameAndBirth: keeps))
        }

        // Each rule set with the auto-link threshold it is measured at.
        let ruleSets: [(String, MatchRules, Double)] = [
            ("catalog rules, autoLink 0.8 (the default)", rules, 0.8),
            ("catalog rules, autoLink 0.7 (name, birth date and sex suffice)", rules, 0.7),
            ("catalog rules without the name variant table, 0.8", MatchRules(blocking: rules.blocking, rules: rules.rules, nameVariants: nil, position: nil), 0.8),
            ("name and birth date only, 0.8", MatchRules(blocking: [rules.blocking[0]],
                                                         rules: rules.rules.filter { ["name", "date_of_birth"].contains($0.field) },
                                                         nameVariants: rules.nameVariants, position: nil), 0.8),
        ]
        print("residents \(district.residents), register \(register.count), keyless health records \(records.count) "
              + "(\(records.filter(\.unregistered).count) of unregistered residents), seed \(seed)")
        print("rule set | auto-linked | wrong links | precision | recall (keeps name+birth) | to review")
        for (name, set, threshold) in ruleSets {
            let matcher = Matcher(rules: set, catalog: catalog)
            var index: [String: [Int]] = [:]
            for (r, values) in register.enumerated() {
                for key in matcher.blockingKeys(values) { index[key.key, default: []].append(r) }
            }
            var linked = 0, wrong = 0, correctOfKept = 0, kept = 0
            for record in records {
                var candidates: [Int] = []
                for key in matcher.blockingKeys(record.values) {
                    for r in index[key.key] ?? [] where !candidates.contains(r) { candidates.append(r) }
                }
                let scored = candidates.map { r -> (score: Double, disagrees: Bool) in
                    let s = matcher.score(record.values, register[r])
                    return (s.score, s.agreement.contains { $0.agreement == .disagree })
                }
                let truth = registered[record.person]
                if record.keepsNameAndBirth && truth != nil { kept += 1 }
                guard let choice = Matcher.autoLinkChoice(scored, threshold: threshold) else { continue }
                linked += 1
                if candidates[choice] == truth {
                    if record.keepsNameAndBirth { correctOfKept += 1 }
                } else {
                    wrong += 1
                }
            }
            let precision = linked == 0 ? 1 : Double(linked - wrong) / Double(linked)
            let recall = kept == 0 ? 0 : Double(correctOfKept) / Double(kept)
            let review = records.isEmpty ? 0 : Double(records.count - linked) / Double(records.count)
            print("\(name) | \(linked) | \(wrong) | \(String(format: "%.4f", precision)) | \(String(format: "%.3f", recall)) | \(String(format: "%.3f", review))")
        }
        return 0
    }

    static func iso(_ day: CalendarDay) -> String {
        let c = day.components
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }

    /// SplitMix64: deterministic damage for a given seed.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    }
}
