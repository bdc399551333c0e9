import Testing
@testable import RecordStore

/// Existing entities are read back without the JSON parser when their record is an object of
/// plain scalars (`GoldenRecordCodec.plainMembers`). Whatever the stored text, the fields must be
/// those the parser gives, and the parser must be left the records with escapes, exponents,
/// nested values or broken text.
@Suite struct GoldenRecordDecodeTests {
    /// A fixed-seed sequence (Knuth's MMIX multiplier): the same texts every run.
    struct Random {
        var state: UInt64
        mutating func int(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    }

    static let values = [#""张三""#, #""""#, #""a b""#, #""成都市 成华区""#, #""tab\there""#, #""quote\"d""#, #""\u0001""#,
                         #""back\\slash""#, "0", "-0", "12", "-3.50", "1.5e3", "1E-2", "007", "true", "false", "null",
                         #"{"a": 1}"#, "[1, 2]", "[]", #""😀""#, "-", "1.", "tru", #""unterminated"#]
    static let names = ["name", "sex", "citizen_id", "address", "a", "名字", #"we\"ird"#]

    func provenance(_ names: [String]) -> String {
        let pointers = names.map { "\"\($0)\":0" }.joined(separator: ",")
        return #"{"sources":[{"adapter":"a","department":"d","source_key":"k","mapping":"m","mapping_version":1,"observed_at":"t"}],"fields":{"#
            + pointers + "}}"
    }

    @Test func readingPlainRecordsWithoutTheParserGivesWhatTheParserGives() throws {
        var random = Random(state: 20261206)
        var plain = 0, parsed = 0
        for _ in 0..<5_000 {
            let count = random.int(7)
            var members: [String] = []
            var names: [String] = []
            for _ in 0..<count {
                let name = random.pick(Self.names)
                names.append(name)
                let separator = random.pick([": ", ":", " : "])
                members.append("\"\(name)\"\(separator)\(random.pick(Self.values))")
            }
            var text = "{" + members.joined(separator: random.pick([", ", ",", " ,\n"])) + "}"
            switch random.int(10) {
            case 0: text = " " + text + "\n"
            case 1: text.removeLast()
            case 2: text += "x"
            default: break
            }
            let p = provenance(names.filter { $0 != #"we\"ird"# || random.int(2) == 0 })
            let byParsing = Result { try GoldenRecordCodec.decodeByParsing(record: text, provenance: p) }
            let fast = Result { try GoldenRecordCodec.decode(record: text, provenance: p) }
            switch (fast, byParsing) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(text)")
            case (.failure, .failure): break
            default: Issue.record("one way failed, the other did not: \(text)")
            }
            if GoldenRecordCodec.plainMembers(text) != nil { plain += 1 } else { parsed += 1 }
        }
        // Both ways were taken often.
        #expect(plain > 300 && parsed > 300, "plain \(plain), parsed \(parsed)")
    }

    @Test func jsonbOutputOfACanonicalRecordIsReadWithoutTheParser() {
        let stored = #"{"sex": "1", "name": "彭军", "citizen_id": "510108197505162557", "date_of_birth": "1975-05-16", "n": -12.50, "ok": true}"#
        let members = GoldenRecordCodec.plainMembers(stored)
        #expect(members?.map(\.0) == ["sex", "name", "citizen_id", "date_of_birth", "n", "ok"])
        #expect(members?.map(\.1) == [#""1""#, #""彭军""#, #""510108197505162557""#, #""1975-05-16""#, "-12.50", "true"])
    }
}
