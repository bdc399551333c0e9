extension JSONValue {
    /// Compact JSON text: no whitespace, members in their order (or sorted by UTF-8 bytes of the key
    /// when `sortedKeys`), only `"`, `\` and control characters escaped, other text as UTF-8.
    ///
    /// Numbers are written as their text; `Infinity`, `-Infinity` and `NaN` have no JSON form and
    /// are written as `null`.
    public func jsonText(sortedKeys: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, sortedKeys: sortedKeys, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text of this value to a byte buffer (no intermediate String).
    public func writeJSON(to out: inout [UInt8], sortedKeys: Bool = false) {
        JSONWriter.write(self, sortedKeys: sortedKeys, to: &out)
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, sortedKeys: Bool, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text):
            if text == "Infinity" || text == "-Infinity" || text == "NaN" {
                out.append(contentsOf: "null".utf8)
            } else {
                out.append(contentsOf: text.utf8)
            }
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, sortedKeys: sortedKeys, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            let members = sortedKeys
                ? object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                : object.members
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, sortedKeys: sortedKeys, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        JSONEscapeScan.appendQuoted(s, to: &out, shortControlEscapes: true)
    }
}

/// Quoted JSON strings as UTF-8, for every JSON writer of the hub: runs of plain text are copied
/// at once, found eight bytes at a time.
public enum JSONEscapeScan {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` quoted, escaping only `"`, `\` and control characters (other text as UTF-8).
    /// `shortControlEscapes`: backspace and form feed as `\b` and `\f` (JSON5's writer) rather than
    /// `\u0008` and `\u000c` (the record writers, whose bytes landing hashes: kept as they were).
    public static func appendQuoted(_ s: String, to out: inout [UInt8], shortControlEscapes: Bool) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            var i = 0
            while i < bytes.count {
                if i + 8 <= bytes.count, !mayNeedEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = base[i]
                i += 1
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - 1 - start))
                start = i
                out.append(0x5C)
                switch b {
                case 0x22, 0x5C: out.append(b)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08 where shortControlEscapes: out.append(UInt8(ascii: "b"))
                case 0x0C where shortControlEscapes: out.append(UInt8(ascii: "f"))
                default:
                    out.append(UInt8(ascii: "u")); out.append(0x30); out.append(0x30)
                    out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: bytes.count - start))
        }
        out.append(0x22)
    }

    /// Whether one of the eight bytes of `word` is below 0x20, a quote or a backslash: never
    /// false when one is (sometimes true when none is, which only costs a byte-by-byte look).
    @inline(__always)
    public static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let q = word ^ (ones &* 0x22), bs = word ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q & highs
        let backslash = (bs &- ones) & ~bs & highs
        return (control | quote | backslash) != 0
    }
}
