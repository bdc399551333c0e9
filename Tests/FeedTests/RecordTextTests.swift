import Catalog
import Foundation
import JSON5
import Testing
@testable import Feed

/// Projection on the record's bytes (`RecordText`) gives byte for byte the event that the parser
/// path gives, for random records (ASCII, CJK, escapes, nested values, nulls, numbers, odd
/// whitespace, unknown fields) under every masking policy, and refuses exactly what the parser
/// refuses.
@Suite struct RecordTextTests {
    static let person = realCatalog.resource("Person")!
    static let pieces: [String] = ["1", "X", "-", " ", "街道", "镇", "张", "欧阳", "号", "四川省成都市成华区", "510108001001",
                                   "e\u{301}", "\r\n", "\u{20BB7}", "\u{F9DC}", "\"", "\\", "\t", "\u{1}", "\u{8}", "\u{C}", "/",
                                   "😀", "é", "a b", "0", "1990-01-02", "\u{7F}", "\u{FFFD}"]

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A JSON string literal of `s`, sometimes with needless escapes (`\/`, `\uXXXX`).
    static func literal(_ s: String, _ rng: inout Generator) -> String {
        var out = "\""
        let style = Int.random(in: 0..<4, using: &rng)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += style == 0 ? "\\b" : "\\u0008"
            case "\u{C}": out += "\\f"
            case "/" where style == 1: out += "\\/"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else if style == 2 && scalar.value > 0x7F && scalar.value < 0x10000 {
                    out += String(format: "\\u%04X", scalar.value)
                } else if style == 2 && scalar.value >= 0x10000 {
                    let v = scalar.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func value(_ rng: inout Generator, depth: Int = 0) -> String {
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2: return ["0", "-0", "12", "-3.25", "1e5", "2E-3", "1.50", "123456789012345678901234567890", "0.0"]
            .randomElement(using: &rng)!
        case 3 where depth < 2:
            let n = Int.random(in: 0...3, using: &rng)
            return "[" + (0..<n).map { _ in value(&rng, depth: depth + 1) }.joined(separator: Bool.random(using: &rng) ? "," : ", ") + "]"
        case 4 where depth < 2:
            let n = Int.random(in: 0...3, using: &rng)
            return "{" + (0..<n).map { i in "\"k\(i)\":" + value(&rng, depth: depth + 1) }.joined(separator: ",") + "}"
        default:
            let text = (0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            return literal(text, &rng)
        }
    }

    /// A record of Person fields (and some unknown ones) in random order and formatting.
    static func record(_ rng: inout Generator) -> String {
        var keys = person.fields.map(\.name).shuffled(using: &rng).prefix(Int.random(in: 0...person.fields.count, using: &rng))
        keys.append(contentsOf: ["unknown_field", "备注"].filter { _ in Bool.random(using: &rng) })
        let ws = [["", ""], [" ", " "], ["\n ", "\t"], ["", " "]].randomElement(using: &rng)!
        let members = keys.map { key -> String in
            var v = value(&rng)
            if key == "community_code" || key == "registered_division", Int.random(in: 0..<3, using: &rng) > 0 {
                v = literal(["510108001001", "510108009001", "510107001"].randomElement(using: &rng)!, &rng)
            }
            return literal(key, &rng) + ws[1] + ":" + ws[1] + v
        }
        return ws[0] + "{" + ws[0] + members.joined(separator: "," + ws[0]) + ws[0] + "}" + ws[0]
    }

    /// Subscriptions under every policy: all fields plain, masked, pseudonymized or omitted (where
    /// the catalog allows it), the least-privilege default, and random mixes; with and without an area.
    static func projectors(_ rng: inout Generator) throws -> [EventProjector] {
        var specs: [SubscriptionSpec] = []
        let shared = person.fields.filter { $0.sharing != .notShared }
        for policy in FieldPolicy.allCases {
            var spec = SubscriptionSpec(name: "all-\(policy.rawValue)", purpose: "test", resources: ["Person"])
            spec.masking = Dictionary(uniqueKeysWithValues: shared.map { ("Person." + $0.name, policy.rawValue) })
            specs.append(spec)
        }
        for i in 0..<6 {
            var spec = SubscriptionSpec(name: "mix\(i)", purpose: "test", resources: ["Person"], area: i % 2 == 0 ? ["510108"] : nil)
            spec.masking = Dictionary(uniqueKeysWithValues: shared.map {
                ("Person." + $0.name, FieldPolicy.allCases.randomElement(using: &rng)!.rawValue)
            })
            specs.append(spec)
        }
        specs.append(SubscriptionSpec(name: "default", purpose: "test", resources: ["Person"]))
        specs.append(SubscriptionSpec(name: "area", purpose: "test", resources: ["Person"], area: ["510108001"]))
        return try specs.map { try projector($0) }
    }

    static func parsed(_ position: Int64, _ bytes: [UInt8]) -> ParsedChange {
        let keys = (try? JSON5.parseJSON(bytes).objectValue?.keys) ?? ["name"]
        return ParsedChange(position: position, resource: "Person", entityID: "e\(position)", version: 1, operation: "created",
                            changedFields: keys ?? [], time: Date(timeIntervalSince1970: 1_790_000_000),
                            isoTime: "2026-09-22T10:13:20.000Z", recordBytes: bytes, sourcesBytes: Array("[]".utf8))
    }

    func compare(_ change: ParsedChange, _ projectors: [EventProjector]) throws {
        let reference = change.withoutIndex()
        for p in projectors {
            let fast = try p.project(change)
            let slow = try p.project(reference)
            #expect(fast?.bytes == slow?.bytes, "\(p.scope.subscriptionID): \(String(decoding: change.text?.bytes ?? [], as: UTF8.self))")
            #expect(fast?.disclosedFields == slow?.disclosedFields)
        }
    }

    @Test func randomRecordsGiveTheSameBytes() throws {
        var rng = Generator(state: UInt64(Date().timeIntervalSince1970))
        let projectors = try Self.projectors(&rng)
        var indexed = 0
        for i in 0..<3_000 {
            let change = Self.parsed(Int64(i + 1), Array(Self.record(&rng).utf8))
            if change.text != nil { indexed += 1 }
            try compare(change, projectors)
        }
        #expect(indexed == 3_000, "every well-formed record takes the byte path")
    }

    @Test func whatTheParserRefusesIsRefused() throws {
        var rng = Generator(state: 7)
        let projectors = try Self.projectors(&rng)
        let bad: [[UInt8]] = [
            #"{"name":"a","name":"b"}"#, #"{"name":01}"#, #"{"name":"a"} x"#, #"{"name":"a",}"#, #"["name"]"#, #""name""#,
            #"{"name":1.}"#, #"{"name":-}"#, #"{"name":tru}"#, #"{"name":"a\x"}"#, #"{"name":"\ud800"}"#, "{\"name\":\"a\u{1}\"}",
            #"{"name" "a"}"#, #"{name:"a"}"#, #"{"name":"a""#, "", "{", #"{"name":[1,}"#, #"{"name":{"a":1,"a":2}}"#,
        ].map { Array($0.utf8) } + [
            Array(#"{"name":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"name":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"name":""#.utf8) + [0xE5, 0xBC] + Array(#""}"#.utf8),
            Array(#"{"name":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8),
            Array(#"{"#.utf8) + [0xE5, 0xBC, 0xA0] + Array(#":1}"#.utf8),
            [0xEF, 0xBB, 0xBF] + Array(#" {"name":"张三"}"#.utf8),
        ] + [510, 511, 512, 600].map { depth in
            Array(#"{"name":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
                + [UInt8(ascii: "}")]
        }
        for (i, bytes) in bad.enumerated() {
            let change = Self.parsed(Int64(i + 1), bytes)
            let parses = (try? JSON5.parseJSON(bytes))?.objectValue != nil
            #expect((change.text != nil) == parses, "index and parser disagree on case \(i)")
            try compare(change, projectors)
        }
    }
}
