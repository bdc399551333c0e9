import Catalog
import Mapping
@testable import RecordStore
import Testing

/// A first version's match data is worked out from the canonical record, not by parsing its JSON
/// back; for any record it must be what the parse gives.
@Suite struct MatchDataTests {
    @Test func aFirstVersionsMatchDataIsWhatItsJSONGives() throws {
        let catalog = try Catalog.load(directory: RepositoryRoot.path + "/mappings/catalog")
        let rules = StoreRules(catalog: catalog)
        let resource = try #require(rules.matchers.keys.sorted().first)
        let matcher = rules.matchers[resource]!
        let names = (catalog.resource(resource)?.fields.map(\.name) ?? []) + ["extra"]
        let texts = ["张丽", "張 麗", "ZHANG", "ＺＨＡＮＧ", "", " ", "a\"b\\c", "line\nbreak", "\u{1}", "😀", "510108199001011234",
                     "1990-01-01", "2026-12-06T03:00:00Z"]
        let numbers = ["0", "12", "-3.5", "1e3", "007", "1.", "12abc"]
        var rng = SplitMix(seed: 20261206)
        var checked = 0, withNumbers = 0, plain = 0
        for _ in 0..<2_000 {
            var fields: [CanonicalField] = []
            // Half the records repeat a name now and then; the others never do.
            let repeating = rng.int(2) == 0
            var unused = names
            for _ in 0..<(1 + rng.int(names.count - 1)) {
                let name = repeating ? names[rng.int(names.count)] : unused.remove(at: rng.int(unused.count))
                let value: CanonicalValue
                switch rng.int(8) {
                case 0: value = .code(texts[rng.int(texts.count)])
                case 1: value = .date(texts[rng.int(texts.count)])
                case 2: value = .datetime(texts[rng.int(texts.count)])
                case 3: value = .boolean(rng.int(2) == 0)
                case 4 where rng.int(4) == 0: value = .integer(numbers[rng.int(numbers.count)])
                case 5 where rng.int(4) == 0: value = .decimal(numbers[rng.int(numbers.count)])
                default: value = .string(texts[rng.int(texts.count)])
                }
                fields.append(CanonicalField(name, value))
            }
            let record = CanonicalRecord(resource: resource, identity: [:], fields: fields, sourceKey: "k", mappingId: "m", mappingVersion: 1)
            let provenance = FieldProvenance(adapter: "a", department: "d", sourceKey: "k", mappingID: "m", mappingVersion: 1,
                                             observedAt: "2026-12-06T00:00:00Z")
            let json = GoldenRecordCodec.firstVersion(record, provenance: provenance).record
            let direct = MatchIndex.matchData(matcher, resource: resource, firstVersionOf: record, json: json)
            let parsed = MatchIndex.matchData(matcher, resource: resource, json: json)
            #expect(direct.values == parsed.values, "\(json)")
            #expect(direct.blocks.map(\.hash) == parsed.blocks.map(\.hash), "\(json)")
            checked += 1
            let numbers = fields.contains { if case .integer = $0.value { true } else if case .decimal = $0.value { true } else { false } }
            if numbers { withNumbers += 1 }
            if !numbers && Set(fields.map(\.name)).count == fields.count && !parsed.values.isEmpty { plain += 1 }
        }
        #expect(checked == 2_000 && withNumbers > 50 && plain > 300, "\(withNumbers) with numbers, \(plain) plain")
    }
}
