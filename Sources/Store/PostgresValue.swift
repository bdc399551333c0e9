import Foundation

/// A Swift value that can be sent as a query parameter (in PostgreSQL's text format).
///
/// Values are always sent as parameters, never spliced into SQL text. `nil` is SQL NULL.
public protocol PostgresEncodable: Sendable {
    var postgresText: String? { get }
}

/// A Swift value that can be read from a column in PostgreSQL's text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init?(postgresText: String) { self.init(uuidString: postgresText) }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// Sent as a timestamptz literal in UTC with microseconds.
    public var postgresText: String? {
        let micros = (timeIntervalSince1970 * 1_000_000).rounded()
        return PostgresTimestamp.format(microsSinceEpoch: Int64(micros))
    }
    public init?(postgresText: String) {
        guard let micros = PostgresTimestamp.parse(postgresText) else { return nil }
        self.init(timeIntervalSince1970: Double(micros) / 1_000_000)
    }
}

/// Bytes sent and read as bytea (hex format).
public struct PostgresBytes: PostgresEncodable, PostgresDecodable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var postgresText: String? {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for b in bytes { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    public init?(postgresText: String) {
        guard postgresText.hasPrefix("\\x") else { return nil }
        var out: [UInt8] = []
        var high: UInt8?
        for c in postgresText.utf8.dropFirst(2) {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        self.bytes = out
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

/// Arrays are sent as array literals (`{"a","b",NULL}`), for `= ANY($1)` and `unnest($1::text[])`.
/// Built on UTF-8 bytes: large batches send arrays of many kilobytes.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresText: String? {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(count * 16)
        for (i, element) in enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard var text = element.postgresText else { out.append(contentsOf: "NULL".utf8); continue }
            out.append(UInt8(ascii: "\""))
            text.withUTF8 { bytes in
                for byte in bytes {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// A jsonb parameter from JSON text the caller already serialized.
public struct PostgresJSON: PostgresEncodable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var postgresText: String? { text }
}

/// timestamptz text <-> microseconds since the epoch, without DateFormatter.
enum PostgresTimestamp {
    static func format(microsSinceEpoch micros: Int64) -> String {
        var secs = time_t(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let frac = Int(micros - Int64(secs) * 1_000_000)
        var tm = tm()
        gmtime_r(&secs, &tm)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), frac)
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]` as PostgreSQL prints timestamptz.
    static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
              let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2) else { return nil }
        var i = 19
        var micros = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(b[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offset = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = num(i + 1, 2) else { return nil }
            var om = 0
            if i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let m = num(i + 4, 2) { om = m }
            offset = sign * (oh * 3600 + om * 60)
        }
        var tm = tm()
        tm.tm_year = Int32(y - 1900)
        tm.tm_mon = Int32(mo - 1)
        tm.tm_mday = Int32(d)
        tm.tm_hour = Int32(h)
        tm.tm_min = Int32(mi)
        tm.tm_sec = Int32(s)
        let secs = Int64(timegm(&tm)) - Int64(offset)
        return secs * 1_000_000 + Int64(micros)
    }
}

/// Reads PostgreSQL's text output of a one-dimensional `text[]`: `{a,b,"c,d","e \"f\""}`.
/// Elements that hold commas, quotes, braces, backslashes or spaces come quoted with
/// backslash escapes; NULL elements are not expected (and come back as "NULL").
public enum PostgresTextArray {
    public static func parse(_ text: String) -> [String] {
        var bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return [] }
        bytes = Array(bytes[1..<(bytes.count - 1)])
        guard !bytes.isEmpty else { return [] }
        var elements: [String] = []
        var current: [UInt8] = []
        var i = 0
        var quoted = false
        while i < bytes.count {
            let byte = bytes[i]
            if quoted {
                if byte == UInt8(ascii: "\\"), i + 1 < bytes.count { current.append(bytes[i + 1]); i += 2; continue }
                if byte == UInt8(ascii: "\"") { quoted = false } else { current.append(byte) }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                elements.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
            i += 1
        }
        elements.append(String(decoding: current, as: UTF8.self))
        return elements
    }
}
