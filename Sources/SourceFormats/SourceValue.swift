import JSON5

/// A JSON-like value read from a department record.
///
/// Numbers keep their literal text (`"007"` stays a string, `1.50` stays `"1.50"`), so nothing is
/// lost or reformatted before the mapping decides what the value means.
public enum SourceValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number as written in the source (JSON literal text).
    case number(String)
    case string(String)
    case array([SourceValue])
    case object(SourceObject)

    /// The value as text when it is a scalar (string, number, bool); nil for null, arrays and objects.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// Renders the value as compact JSON (keys in source order).
    public var jsonText: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The compact JSON as UTF-8 bytes: what landing hashes and keeps, built without
    /// intermediate strings (a record's JSON is written once per record on the bulk path).
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSON(to: &out)
        return out
    }

    func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONStringEscaper.append(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for i in 0..<object.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONStringEscaper.append(object.keys[i], to: &out)
                out.append(UInt8(ascii: ":"))
                object.values[i].appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// An object whose keys keep their source order. Lookup is a linear scan: department records have
/// tens of fields, where a scan over contiguous keys beats hashing.
public struct SourceObject: Sendable, Equatable {
    public private(set) var keys: [String]
    public private(set) var values: [SourceValue]

    public init() {
        keys = []
        values = []
    }

    /// Keys and values of equal count (the parsers build them on a shared stack first).
    init(keys: [String], values: [SourceValue]) {
        self.keys = keys
        self.values = values
    }

    public init(_ pairs: [(String, SourceValue)]) {
        keys = pairs.map(\.0)
        values = pairs.map(\.1)
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The value of the first entry with this key.
    public subscript(key: String) -> SourceValue? {
        // Comparing UTF-8 lengths first (O(1) for native strings) skips most non-matching keys
        // without the full string comparison.
        let length = key.utf8.count
        let index: Int? = keys.withUnsafeBufferPointer { keys in
            for i in 0..<keys.count where keys[i].utf8.count == length && keys[i] == key { return i }
            return nil
        }
        return index.map { values[$0] }
    }

    /// Appends an entry (a repeated key is kept; lookup finds the first).
    public mutating func append(_ key: String, _ value: SourceValue) {
        keys.append(key)
        values.append(value)
    }

    /// Replaces the value of an existing key, or appends it.
    public mutating func set(_ key: String, _ value: SourceValue) {
        if let i = keys.firstIndex(of: key) { values[i] = value } else { append(key, value) }
    }

    mutating func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }
}

/// Escapes strings for JSON output (shared by every JSON renderer of the hub). Both forms write the
/// same text; the byte form is the one for per-record work (a `String +=` costs hundreds of
/// instructions, a byte append a few).
public enum JSONStringEscaper {
    /// Appends `s` as a quoted JSON string in UTF-8. Non-ASCII characters are written as UTF-8, not escaped.
    public static func append(_ s: String, to out: inout [UInt8]) {
        JSONEscapeScan.appendQuoted(s, to: &out, shortControlEscapes: false)
    }

    /// Appends `s` as a quoted JSON string. Non-ASCII characters are written as UTF-8, not escaped.
    public static func append(_ s: String, to out: inout String) {
        out += "\""
        var needsEscape = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { needsEscape = true; break }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        out += "\""
    }
}

extension SourceValue {
    /// The record value of a value read by the strict JSON scanner (numbers keep their text).
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let text): self = .number(text)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(SourceValue.init))
        case .object(let object): self = .object(SourceObject(object))
        }
    }
}

extension SourceObject {
    /// A record object from a parsed JSON object, members in source order (repeated keys kept).
    init(_ object: JSONObject) {
        var keys: [String] = []
        var values: [SourceValue] = []
        keys.reserveCapacity(object.count)
        values.reserveCapacity(object.count)
        for member in object.members {
            keys.append(member.key)
            values.append(SourceValue(member.value))
        }
        self.init(keys: keys, values: values)
    }
}
