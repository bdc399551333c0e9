import Foundation
import JSON5
import Testing
@testable import Catalog

/// Match rules as catalog data: validation (every problem at once, with its line) and the
/// normalization, blocking and scoring they drive (issue 13).
@Suite struct MatchRulesTests {
    static func person(matching: String) -> String {
        validPerson.replacingOccurrences(of: "  identityKey: ['citizen_id'],", with: "  identityKey: ['citizen_id'],\n  matching: \(matching),")
    }

    func load(_ person: String, extra: [String: String] = [:]) -> Result<Catalog, CatalogLoadError> {
        let files = ["catalog.json5": validCatalogFile, "codes/sex.json5": validSexTable, "resources/person.json5": person]
        return (try? TemporaryCatalog(files.merging(extra) { $1 }).load()) ?? .failure(CatalogLoadError(problems: []))
    }

    @Test func everyMatchRuleProblemIsReportedAtOnceWithItsLine() throws {
        let person = Self.person(matching: """
            {
                blocking: [['sex', 'nickname'], 'sex'],
                rules: [{ field: 'shoe_size', weight: 0.5 }, { field: 'sex', compare: 'phonetic', weight: 2 }],
                nameVariants: 'no_such_table',
                threshold: 3,
              }
            """)
        guard case .failure(let error) = load(person) else { Issue.record("a broken match rule set loaded"); return }
        let text = error.problems.map(\.description).joined(separator: "\n")
        for fragment in ["unknown key 'threshold'", "a blocking key is a non-empty array of field names", "blocking field 'nickname'",
                         "scoring field 'shoe_size'", "unknown value 'phonetic'", "a weight is a number above 0 and at most 1",
                         "code table 'no_such_table' does not exist"] {
            let problem = error.problems.first { $0.message.contains(fragment) }
            #expect(problem != nil, "missing: \(fragment)\n\(text)")
            #expect(problem?.file.hasSuffix("resources/person.json5") == true && (problem?.position?.line ?? 0) > 4, "\(fragment)")
        }
    }

    @Test func namesNormalizeAndVariantsAgree() throws {
        let variants = """
            { table: 'name_variants', title: { zh: '异体字', en: 'Variants' }, source: 'hub-defined',
              codes: [{ code: '張', label: '张' }, { code: '麗', label: '丽' }] }
            """
        let person = Self.person(matching: """
            { blocking: [['citizen_id', 'sex']], rules: [{ field: 'citizen_id', compare: 'name', weight: 0.6 }, { field: 'sex', weight: 0.4 }],
              nameVariants: 'name_variants' }
            """)
        let catalog = try load(person, extra: ["codes/name_variants.json5": variants]).get()
        let rules = try #require(catalog.resource("Person")?.matching)
        let matcher = Matcher(rules: rules, catalog: catalog)
        // Width, spaces and variants give the same blocking key; another name does not.
        let a = matcher.blockingKeys(["citizen_id": "張 麗", "sex": "2"]).map(\.key)
        #expect(a == matcher.blockingKeys(["citizen_id": "张丽", "sex": "2"]).map(\.key))
        #expect(a != matcher.blockingKeys(["citizen_id": "张力", "sex": "2"]).map(\.key))
        #expect(matcher.blockingKeys(["citizen_id": "张丽"]).isEmpty)
        // Scores: exact, variant, disagreement subtracts, a missing side counts nothing.
        #expect(matcher.score(["citizen_id": "张丽", "sex": "2"], ["citizen_id": "张丽", "sex": "2"]).score == 1)
        let variant = matcher.score(["citizen_id": "張麗", "sex": "2"], ["citizen_id": "张丽", "sex": "2"])
        #expect(variant.score == 1 && variant.agreement.first?.agreement == .variant)
        #expect(matcher.score(["citizen_id": "ＺＨＡＮＧ"], ["citizen_id": "ZHANG", "sex": "1"]).score == 0.6)
        let disagree = matcher.score(["citizen_id": "张丽", "sex": "1"], ["citizen_id": "张丽", "sex": "2"])
        #expect(disagree.score == 0.2 && disagree.agreement.last?.agreement == .disagree)
    }

    /// `standardName` goes scalar by scalar for CJK and ASCII names; on any name it must equal
    /// the character-by-character definition (combining marks, CR LF, other dots and spaces,
    /// full-width forms, variants, emoji).
    @Test func standardNameFastPathEqualsTheCharacterDefinition() throws {
        let variants = """
            { table: 'name_variants', title: { zh: '异体字', en: 'Variants' }, source: 'hub-defined',
              codes: [{ code: '張', label: '张' }, { code: '麗', label: '丽' }, { code: 'e', label: 'é' }] }
            """
        let person = Self.person(matching: """
            { blocking: [['citizen_id']], rules: [{ field: 'citizen_id', compare: 'name', weight: 1 }], nameVariants: 'name_variants' }
            """)
        let catalog = try load(person, extra: ["codes/name_variants.json5": variants]).get()
        let matcher = Matcher(rules: try #require(catalog.resource("Person")?.matching), catalog: catalog)
        let pieces = ["张", "張", "麗", "丽", "王", "㐀", "a", "e", "Z", " ", ".", "·", "•", "．", "・", "\u{3000}", "\u{A0}",
                      "\t", "\r\n", "\u{301}", "é", "Ａ", "ｅ", "😀", "\u{200B}", "-", "'", "\u{FEFF}", "ا"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let name = (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            #expect(matcher.standardName(name) == matcher.standardNameByCharacter(name), "\(name.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}
