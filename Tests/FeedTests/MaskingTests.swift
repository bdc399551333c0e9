import Catalog
@testable import Feed
import Testing

@Suite struct MaskingTests {
    @Test func conventionsOfTheStandards() {
        #expect(ValueMasking.mask("11010519491231002X", hint: .idNumber, type: .string) == "110105********002X")
        #expect(ValueMasking.mask("13812345678", hint: .mobile, type: .string) == "138****5678")
        #expect(ValueMasking.mask("张三", hint: .name, type: .string) == "张*")
        #expect(ValueMasking.mask("欧阳娜娜", hint: .name, type: .string) == "欧***")
        #expect(ValueMasking.mask("四川省成都市成华区猛追湾街道望平街12号", hint: .address, type: .string) == "四川省成都市成华区猛追湾街道***")
        #expect(ValueMasking.mask("1949-12-31", hint: nil, type: .date) == "1949")
        #expect(ValueMasking.mask("anything", hint: .suppress, type: .string) == "***")
    }

    @Test func shortOrOddValuesAreFullyStarred() {
        #expect(ValueMasking.mask("1381", hint: .mobile, type: .string) == "****")
        #expect(ValueMasking.mask("张", hint: .name, type: .string) == "*")
        #expect(ValueMasking.mask("", hint: .idNumber, type: .string) == "*")
        // An address without a street marker keeps only its first characters.
        #expect(ValueMasking.mask("某地某路12号院", hint: .address, type: .string) == "某地某路12**")
    }

    @Test func pseudonymsAreKeyedAndStable() {
        let a = ValueMasking.pseudonym("11010519491231002X", key: Array(repeating: 1, count: 32))
        let b = ValueMasking.pseudonym("11010519491231002X", key: Array(repeating: 2, count: 32))
        #expect(a == ValueMasking.pseudonym("11010519491231002X", key: Array(repeating: 1, count: 32)))
        #expect(a != b, "two subscriptions cannot join on pseudonyms")
        #expect(a.hasPrefix("ps_") && !a.contains("1101051949"))
    }

    @Test func leastPrivilegeDefaults() throws {
        let person = try #require(realCatalog.resource("Person"))
        #expect(FieldPolicy.leastPrivilege(for: try #require(person.field("sex"))) == .plain)
        #expect(FieldPolicy.leastPrivilege(for: try #require(person.field("citizen_id"))) == .masked)
        #expect(FieldPolicy.leastPrivilege(for: try #require(person.field("date_of_birth"))) == .omitted, "sensitive, no convention")
        #expect(FieldPolicy.leastPrivilege(for: try #require(person.field("political_status"))) == .omitted, "not shared")
    }
}

/// The byte-level masking of single-scalar text (ASCII, CJK ideographs) gives exactly what the
/// Character-based path gives, on random text mixing those with characters that take the general
/// path (combining marks, CR LF, a supplementary-plane ideograph, a compatibility ideograph).
@Suite struct MaskingFastPathTests {
    static let pieces: [String] = ["1", "X", "-", " ", "\n", "街", "道", "街道", "镇", "乡", "张", "欧阳", "号", "四川省", "成华区",
                                   "e\u{301}", "\r\n", "\u{20BB7}", "\u{F9DC}", "a", "0", "㐀", "é", "镇乡"]

    @Test func fastPathMatchesTheCharacterPath() {
        var rng = SystemRandomNumberGenerator()
        var fastCases = 0
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 0...14, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
            if SingleScalarText(text) != nil { fastCases += 1 }
            for (first, last) in [(6, 4), (3, 4), (1, 0), (0, 0)] {
                #expect(ValueMasking.keep(text, first: first, last: last) == ValueMasking.keepByCharacters(text, first: first, last: last))
            }
            #expect(ValueMasking.streetLevel(text) == ValueMasking.streetLevelByCharacters(text))
        }
        #expect(fastCases > 500, "the random texts must exercise the byte path")
        #expect(SingleScalarText("e\u{301}") == nil && SingleScalarText("a\r\nb") == nil && SingleScalarText("\u{20BB7}") == nil)
    }
}
