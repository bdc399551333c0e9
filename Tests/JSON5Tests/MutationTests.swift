import Testing
@testable import JSON5

/// A small deterministic generator so failures reproduce.
struct XorShift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite struct MutationTests {
    static let document = Array("""
    // c
    { name: 'x\\u4E2D', list: [1, 0x1F, .5, +Infinity, "s\\
    t"], nested: { "k": null, k2: true }, /* b */ }
    """.utf8)

    static let record = Array(#"{"XM":"张三","GMSFHM":110105194912310021,"a":[1,-2.5e3,true,null,{"b":"\u00e9"}]}"#.utf8)

    /// Every mutation either parses or fails with a position inside (or just after) the input: no crash, no hang.
    @Test func mutatedInputsNeverCrash() {
        var random = XorShift(state: 0x9E37_79B9_7F4A_7C15)
        let interesting: [UInt8] = Array("{}[]:,'\"\\/*+-.0123456789eExXuIN \n\t".utf8) + [0x00, 0x80, 0xC3, 0xE4, 0xFF]
        for round in 0..<3000 {
            var bytes = round % 2 == 0 ? Self.document : Self.record
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let i = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[i] = interesting[Int(random.next() % UInt64(interesting.count))]
                case 1: bytes.remove(at: i)
                default: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: i)
                }
                if bytes.isEmpty { break }
            }
            let lines = bytes.filter { $0 == 0x0A }.count + 1
            do {
                _ = try JSON5.parseDocument(bytes, file: "m")
            } catch {
                #expect(error.position.line >= 1 && error.position.line <= lines)
            }
            do {
                _ = try JSON5.parseJSON(bytes)
            } catch {
                #expect(error.position.line >= 1 && error.position.line <= lines)
            }
        }
    }

    @Test func everyPrefixOfAValidDocumentFailsCleanly() {
        for length in 0..<Self.document.count {
            #expect(throws: JSON5Error.self) { try JSON5.parseDocument(Array(Self.document[..<length]), file: "p") }
        }
        for length in 0..<Self.record.count {
            #expect(throws: JSON5Error.self) { try JSON5.parseJSON(Array(Self.record[..<length])) }
        }
    }
}
