import Testing
@testable import Catalog

@Suite struct RandomInputTests {
    /// Identifier rules take any text department data can hold: random mixes never crash, and
    /// every accepted value is in canonical form (idempotent when normalized again).
    @Test func rulesNeverCrashAndAcceptedValuesAreCanonical() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let pieces = ["0", "1", "2", "5", "9", "X", "x", "-", "/", ".", " ", "+", "E", "年", "月", "日", "１", "Ｘ",
                      "\u{3000}", "转", "(", ")", ":", "T", "Z", "8", "6", "3", "ext", "#", "𠀀", "\u{FF5E}", "\u{C2}"]
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<(next() % 24) { text += pieces[Int(next() % UInt64(pieces.count))] }
            for rule in IdentifierRule.allCases {
                if case .success(let value) = rule.normalize(text, today: fixedToday) {
                    let again = rule.normalize(value.normalized, today: fixedToday)
                    #expect((try? again.get().normalized) == value.normalized, "\(rule) not idempotent")
                }
            }
            if case .success(let value) = DateParser.normalizeDate(text, today: fixedToday) {
                #expect(value.normalized.utf8.count == 10)
                #expect((try? DateParser.normalizeDate(value.normalized, today: fixedToday).get().normalized) == value.normalized)
            }
            _ = DateParser.normalizeDateTime(text, today: fixedToday)
            let folded = TextNormalizer.fold(text)
            #expect(TextNormalizer.fold(folded) == folded)
        }
    }
}
