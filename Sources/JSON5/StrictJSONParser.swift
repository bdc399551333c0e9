/// Strict RFC 8259 JSON over UTF-8 bytes: the per-record ingest path.
///
/// Byte-level scanning with no Foundation. Strings without escapes are validated and copied in
/// one step; numbers are kept as their literal text. Duplicate keys are rejected, so a record
/// cannot carry two different values for one field.
struct StrictJSONParser {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    var depth = 0
    /// Members of the objects being parsed, nested objects stacked on top; each finished object
    /// copies its run out in one exactly-sized allocation.
    var memberStack: [JSONObject.Member] = []
    /// Elements of the arrays being parsed, used the same way.
    var itemStack: [JSONValue] = []
    static let maxDepth = 512

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses exactly one value surrounded by optional whitespace.
    mutating func parseDocument() throws(ParseFailure) -> JSONValue {
        skipWhitespace()
        if index == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
            skipWhitespace()
        }
        guard index < bytes.count else { throw ParseFailure(offset: index, message: "expected a JSON value, found end of input") }
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw ParseFailure(offset: index, message: "unexpected characters after the JSON value")
        }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            let b = bytes[index]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            index += 1
        }
    }

    mutating func parseValue() throws(ParseFailure) -> JSONValue {
        guard index < bytes.count else { throw ParseFailure(offset: index, message: "expected a value, found end of input") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default: throw ParseFailure(offset: index, message: "expected a value")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(ParseFailure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw ParseFailure(offset: index, message: "expected a value") }
        let p = word.utf8Start
        for k in 0..<count where bytes[index + k] != p[k] {
            throw ParseFailure(offset: index, message: "expected a value")
        }
        index += count
    }

    mutating func parseObject() throws(ParseFailure) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject())
        }
        let base = memberStack.count
        defer { memberStack.removeSubrange(base...) }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw ParseFailure(offset: index, message: "expected a string key in object")
            }
            let keyOffset = index
            let key = try parseString()
            for k in base..<memberStack.count where memberStack[k].key == key {
                throw ParseFailure(offset: keyOffset, message: "duplicate key in object")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw ParseFailure(offset: index, message: "expected ':' after object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            memberStack.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw ParseFailure(offset: index, message: "unterminated object: expected ',' or '}'") }
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if b == UInt8(ascii: "}") { return .object(JSONObject(Array(memberStack[base...]))) }
            throw ParseFailure(offset: index - 1, message: "expected ',' or '}' after object member")
        }
    }

    mutating func parseArray() throws(ParseFailure) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        let base = itemStack.count
        defer { itemStack.removeSubrange(base...) }
        while true {
            let item = try parseValue()
            itemStack.append(item)
            skipWhitespace()
            guard index < bytes.count else { throw ParseFailure(offset: index, message: "unterminated array: expected ',' or ']'") }
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if b == UInt8(ascii: "]") { return .array(Array(itemStack[base...])) }
            throw ParseFailure(offset: index - 1, message: "expected ',' or ']' after array element")
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as its text.
    mutating func parseNumber() throws(ParseFailure) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw ParseFailure(offset: index, message: "expected a digit in number")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw ParseFailure(offset: start, message: "leading zeros are not allowed in a JSON number")
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw ParseFailure(offset: index, message: "expected a digit after the decimal point")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw ParseFailure(offset: index, message: "expected a digit in the exponent")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// A double-quoted string starting at `index`; leaves `index` after the closing quote.
    mutating func parseString() throws(ParseFailure) -> String {
        let open = index
        index += 1
        let start = index
        var ascii = true
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if !ascii, let bad = UTF8Check.firstInvalidOffset(raw) {
                    throw ParseFailure(offset: start + bad, message: "string is not valid UTF-8")
                }
                return String(decoding: raw, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { return try parseEscapedString(open: open, start: start) }
            if b < 0x20 { throw ParseFailure(offset: index, message: "control character in string (escape it)") }
            if b >= 0x80 { ascii = false }
            index += 1
        }
        throw ParseFailure(offset: open, message: "unterminated string")
    }

    /// The slow path for strings with escapes: decodes into a byte buffer.
    mutating func parseEscapedString(open: Int, start: Int) throws(ParseFailure) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(index - start + 16)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                if buffer.withUnsafeBytes({ UTF8Check.firstInvalidOffset($0) }) != nil {
                    throw ParseFailure(offset: start, message: "string is not valid UTF-8")
                }
                return String(decoding: buffer, as: UTF8.self)
            }
            if b < 0x20 { throw ParseFailure(offset: index, message: "control character in string (escape it)") }
            if b != UInt8(ascii: "\\") {
                buffer.append(b)
                index += 1
                continue
            }
            let escapeOffset = index
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try UnicodeEscape.read(bytes, at: &index, escapeOffset: escapeOffset)
                UnicodeEscape.appendUTF8(scalar, to: &buffer)
            default:
                throw ParseFailure(offset: escapeOffset, message: "invalid escape sequence in string")
            }
        }
        throw ParseFailure(offset: open, message: "unterminated string")
    }
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

/// `\uXXXX` escapes, surrogate pairs included (shared by the strict and the JSON5 parser).
enum UnicodeEscape {
    /// Reads the 4 hex digits after `\u` at `index` (and a following low-surrogate escape when needed).
    static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int, escapeOffset: Int) throws(ParseFailure) -> Unicode.Scalar {
        guard let high = hex4(bytes, at: index) else {
            throw ParseFailure(offset: escapeOffset, message: "\\u must be followed by 4 hex digits")
        }
        index += 4
        if high >= 0xD800 && high <= 0xDBFF {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                  let low = hex4(bytes, at: index + 2), low >= 0xDC00 && low <= 0xDFFF
            else {
                throw ParseFailure(offset: escapeOffset, message: "unpaired surrogate in \\u escape")
            }
            index += 6
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else {
            throw ParseFailure(offset: escapeOffset, message: "unpaired surrogate in \\u escape")
        }
        return scalar
    }

    static func hex4(_ bytes: UnsafeRawBufferPointer, at i: Int) -> UInt32? {
        guard i + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hexValue(bytes[i + k]) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        let v = scalar.value
        switch v {
        case 0..<0x80:
            buffer.append(UInt8(v))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | (v >> 6)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | (v >> 12)))
            buffer.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | (v >> 18)))
            buffer.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
