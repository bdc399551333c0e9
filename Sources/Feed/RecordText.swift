import Foundation
import JSON5

/// A record's JSON text indexed once per event: where each top-level member's key and value
/// are, so that a subscriber's view of the record is written from the record's own bytes.
///
/// Catching up, the feed used to parse every record into `JSONValue`s (a `String` per key and
/// value) and render it again for every subscriber. Here a plain field's value text is copied as
/// it is, and only masked and pseudonymized values are decoded. The output is byte for byte what
/// the parser path writes (`EventProjector` keeps that path for records this index refuses, and
/// RecordTextTests compares both on random records):
/// - a string without escapes is copied with its quotes: it holds no `"`, `\` or control
///   character, so `JSONValue.writeJSON` would write exactly these bytes;
/// - numbers, `true`, `false` and `null` are copied: the parser keeps a number as its text;
/// - a string with escapes and a nested array or object are parsed (by the same strict parser)
///   and written as before.
///
/// The index accepts only what `JSON5.parseJSON` accepts (strict grammar, valid UTF-8, no
/// duplicate keys, the same depth limit) and refuses (nil) anything else, which then takes the
/// parser path and gets the parser's answer.
///
/// `Member` and `Value` hold only offsets (what was decoded, which is rare in stored records, is
/// kept in `decoded` and referred to by index): an index of plain members is freed without
/// visiting each member, which catching up does for every event.
struct RecordText: Sendable {
    enum Value: Sendable {
        /// A string without escapes: its content is `bytes[start..<end]` (valid UTF-8).
        case plainString(start: Int, end: Int)
        /// A string with escapes, decoded: `decoded[index]`.
        case string(index: Int)
        /// A number, `true` or `false`: its text is `bytes[start..<end]`.
        case literal(start: Int, end: Int)
        case null
        /// An array or object, parsed: `decoded[index]`.
        case nested(index: Int)
    }

    struct Member: Sendable {
        /// The key's UTF-8 is `bytes[keyStart..<keyEnd]` when it has no escape (`escapedKey` < 0).
        let keyStart: Int
        let keyEnd: Int
        /// Whether the key is plain ASCII without escapes: then byte equality is String equality
        /// (for other text, Swift compares Strings by canonical equivalence).
        let keyIsASCII: Bool
        /// `decoded[escapedKey]` is the key when it was written with escapes; -1 otherwise.
        let escapedKey: Int
        let value: Value
    }

    let bytes: [UInt8]
    let members: [Member]
    /// Keys and strings written with escapes (`.string`), and nested values (`.nested`).
    let decoded: [JSONValue]

    /// Indexes `bytes` when it is one JSON object the strict parser would accept; nil otherwise.
    init?(_ bytes: [UInt8]) {
        guard let (members, decoded) = bytes.withUnsafeBytes({ RecordText.scan($0) }) else { return nil }
        self.bytes = bytes
        self.members = members
        self.decoded = decoded
    }

    /// A member's key as the parser gives it.
    func key(_ m: Member) -> String {
        if m.escapedKey >= 0, case .string(let key) = decoded[m.escapedKey] { return key }
        return String(decoding: bytes[m.keyStart..<m.keyEnd], as: UTF8.self)
    }

    /// The member's value as `JSONValue` (the parser path's view of it).
    func jsonValue(_ value: Value) -> JSONValue {
        switch value {
        case .plainString(let s, let e): return .string(String(decoding: bytes[s..<e], as: UTF8.self))
        case .string(let i): return decoded[i]
        case .literal(let s, let e):
            let text = bytes[s..<e]
            if text.elementsEqual("true".utf8) { return .bool(true) }
            if text.elementsEqual("false".utf8) { return .bool(false) }
            return .number(String(decoding: text, as: UTF8.self))
        case .null: return .null
        case .nested(let i): return decoded[i]
        }
    }

    /// Whether member `m` is named `name` (String equality).
    func member(_ m: Member, isNamed name: String) -> Bool {
        if m.keyIsASCII {
            let n = m.keyEnd - m.keyStart
            guard name.utf8.count == n else { return false }
            return bytes.withUnsafeBytes { b in name.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: b[m.keyStart..<m.keyEnd])) }
        }
        return key(m) == name
    }

    /// The value of the first member named `key` when it is a string (`JSONObject[key]?.stringValue`).
    func string(_ key: String) -> String? {
        for m in members where member(m, isNamed: key) {
            switch m.value {
            case .plainString(let s, let e): return String(decoding: bytes[s..<e], as: UTF8.self)
            case .string(let i): return decoded[i].stringValue
            default: return nil
            }
        }
        return nil
    }

    /// The whole record as the parser would give it.
    var object: JSONObject {
        JSONObject(members.map { JSONObject.Member(key: key($0), value: jsonValue($0.value)) })
    }

    // MARK: - Scanning

    private static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    private static func scan(_ b: UnsafeRawBufferPointer) -> ([Member], [JSONValue])? {
        var i = 0
        let n = b.count
        func skip() { while i < n && isWhitespace(b[i]) { i += 1 } }
        skip()
        if i == 0, n >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF {
            i = 3
            skip()
        }
        guard i < n, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skip()
        var members: [Member] = []
        members.reserveCapacity(16)
        var decoded: [JSONValue] = []
        if i < n, b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                guard i < n, b[i] == UInt8(ascii: "\"") else { return nil }
                let keyStart = i + 1
                var keyEnd = keyStart
                var escapedKey: String?
                var keyIsASCII = false
                if let (s, e) = plainString(b, &i) {
                    keyEnd = e
                    keyIsASCII = !UnsafeRawBufferPointer(rebasing: b[s..<e]).contains { $0 >= 0x80 }
                } else {
                    guard let key = escapedString(b, &i) else { return nil }
                    escapedKey = key
                }
                // A repeated key: the parser refuses the record. ASCII keys compare as bytes;
                // others as Strings, as the parser compares them.
                for m in members {
                    if keyIsASCII && m.keyIsASCII {
                        if m.keyEnd - m.keyStart == keyEnd - keyStart
                            && memcmp(b.baseAddress! + m.keyStart, b.baseAddress! + keyStart, keyEnd - keyStart) == 0 { return nil }
                    } else {
                        let a = m.escapedKey >= 0 ? decoded[m.escapedKey].stringValue!
                            : String(decoding: UnsafeRawBufferPointer(rebasing: b[m.keyStart..<m.keyEnd]), as: UTF8.self)
                        let k = escapedKey ?? String(decoding: UnsafeRawBufferPointer(rebasing: b[keyStart..<keyEnd]), as: UTF8.self)
                        if a == k { return nil }
                    }
                }
                skip()
                guard i < n, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skip()
                guard i < n else { return nil }
                let value: Value
                switch b[i] {
                case UInt8(ascii: "\""):
                    if let (s, e) = plainString(b, &i) {
                        value = .plainString(start: s, end: e)
                    } else {
                        guard let string = escapedString(b, &i) else { return nil }
                        value = .string(index: decoded.count)
                        decoded.append(.string(string))
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let start = i
                    guard number(b, &i) else { return nil }
                    value = .literal(start: start, end: i)
                case UInt8(ascii: "t"):
                    guard word(b, &i, "true") else { return nil }
                    value = .literal(start: i - 4, end: i)
                case UInt8(ascii: "f"):
                    guard word(b, &i, "false") else { return nil }
                    value = .literal(start: i - 5, end: i)
                case UInt8(ascii: "n"):
                    guard word(b, &i, "null") else { return nil }
                    value = .null
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    // Nested one level below the record: the whole document's limit is 512.
                    var parser = StrictJSONParser(b, at: i, options: .init(maxDepth: 511))
                    guard let v = try? parser.parseValue() else { return nil }
                    i = parser.index
                    value = .nested(index: decoded.count)
                    decoded.append(v)
                default:
                    return nil
                }
                var keyIndex = -1
                if let escapedKey {
                    keyIndex = decoded.count
                    decoded.append(.string(escapedKey))
                }
                members.append(Member(keyStart: keyStart, keyEnd: keyEnd, keyIsASCII: keyIsASCII, escapedKey: keyIndex, value: value))
                skip()
                guard i < n else { return nil }
                let c = b[i]
                i += 1
                if c == UInt8(ascii: ",") { skip(); continue }
                if c == UInt8(ascii: "}") { break }
                return nil
            }
        }
        skip()
        return i == n ? (members, decoded) : nil
    }

    /// A string at `i` (on its quote) with no escape: its content range, `i` moved past it. Nil
    /// (and `i` unchanged) when it has an escape, a control character or invalid UTF-8, or no end.
    private static func plainString(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> (Int, Int)? {
        let start = i + 1
        var j = start
        let n = b.count
        while j < n {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                return (start, j)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            if c < 0x80 { j += 1; continue }
            guard let len = utf8Sequence(b, j) else { return nil }
            j += len
        }
        return nil
    }

    /// A string with escapes, through the strict parser (which checks it); `i` moved past it.
    private static func escapedString(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> String? {
        var parser = StrictJSONParser(b, at: i)
        guard let s = try? parser.parseString() else { return nil }
        i = parser.index
        return s
    }

    /// The length of the well-formed UTF-8 sequence of 2-4 bytes at `j` (Unicode table 3-7), or nil.
    private static func utf8Sequence(_ b: UnsafeRawBufferPointer, _ j: Int) -> Int? {
        let n = b.count
        let b0 = b[j]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { k < n && b[k] >= lo && b[k] <= hi }
        switch b0 {
        case 0xC2...0xDF: return cont(j + 1) ? 2 : nil
        case 0xE0: return cont(j + 1, 0xA0, 0xBF) && cont(j + 2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF: return cont(j + 1) && cont(j + 2) ? 3 : nil
        case 0xED: return cont(j + 1, 0x80, 0x9F) && cont(j + 2) ? 3 : nil
        case 0xF0: return cont(j + 1, 0x90, 0xBF) && cont(j + 2) && cont(j + 3) ? 4 : nil
        case 0xF1...0xF3: return cont(j + 1) && cont(j + 2) && cont(j + 3) ? 4 : nil
        case 0xF4: return cont(j + 1, 0x80, 0x8F) && cont(j + 2) && cont(j + 3) ? 4 : nil
        default: return nil
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as the strict parser reads it.
    private static func number(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
        let n = b.count
        func digit(_ k: Int) -> Bool { k < n && b[k] >= 48 && b[k] <= 57 }
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { return false }
        if b[i] == UInt8(ascii: "0") {
            i += 1
            if digit(i) { return false }
        } else {
            while digit(i) { i += 1 }
        }
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        if i < n, b[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        return true
    }

    private static func word(_ b: UnsafeRawBufferPointer, _ i: inout Int, _ w: StaticString) -> Bool {
        let count = w.utf8CodeUnitCount
        guard i + count <= b.count else { return false }
        let p = w.utf8Start
        for k in 0..<count where b[i + k] != p[k] { return false }
        i += count
        return true
    }
}
