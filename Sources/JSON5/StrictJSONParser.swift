/// Strict RFC 8259 JSON over UTF-8 bytes: the one strict scanner of the project.
///
/// It serves API bodies and stored JSON (`JSON5.parseJSON`) and the JSON and NDJSON record
/// readers of the ingest path, which walk a records array with it value by value. Byte-level
/// scanning with no Foundation; pure-ASCII strings without escapes are copied without a second
/// UTF-8 validation; numbers are kept as their literal text.
public struct StrictJSONParser {
    /// Options a caller sets: the record readers refuse deep records sooner and keep repeated keys.
    public struct Options: Sendable {
        public var maxDepth: Int
        /// Whether a key repeated in one object is an error (the document parser) or kept (records).
        public var rejectsDuplicateKeys: Bool

        public init(maxDepth: Int = 512, rejectsDuplicateKeys: Bool = true) {
            self.maxDepth = maxDepth
            self.rejectsDuplicateKeys = rejectsDuplicateKeys
        }
    }

    /// Stacks of members and elements being parsed; a caller parsing many records keeps one and
    /// swaps it in, so the stacks are allocated once.
    public struct Scratch {
        var members: [JSONObject.Member] = []
        var items: [JSONValue] = []

        public init() {}
    }

    let bytes: UnsafeRawBufferPointer
    /// The byte offset where scanning goes on; a caller walking an array moves it between values.
    public var index: Int
    var depth = 0
    let maxDepth: Int
    let rejectsDuplicateKeys: Bool
    /// Members of the objects (elements of the arrays) being parsed, nested ones stacked on top;
    /// each finished container copies its run out in one exactly-sized allocation.
    public var scratch = Scratch()

    public init(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0, options: Options = Options()) {
        self.bytes = bytes
        self.index = offset
        self.maxDepth = options.maxDepth
        self.rejectsDuplicateKeys = options.rejectsDuplicateKeys
    }

    /// Parses exactly one value surrounded by optional whitespace (after a UTF-8 BOM when `allowsBOM`).
    public mutating func parseDocument(allowsBOM: Bool = true) throws(ParseFailure) -> JSONValue {
        skipWhitespace()
        if allowsBOM, index == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
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
    public mutating func skipWhitespace() {
        while index < bytes.count {
            let b = bytes[index]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            index += 1
        }
    }

    public mutating func parseValue() throws(ParseFailure) -> JSONValue {
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
        guard depth <= maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(maxDepth) levels", kind: .tooDeep) }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject())
        }
        let base = scratch.members.count
        defer { scratch.members.removeSubrange(base...) }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw ParseFailure(offset: index, message: "expected a string key in object")
            }
            let keyOffset = index
            let key = try parseString()
            if rejectsDuplicateKeys {
                for k in base..<scratch.members.count where scratch.members[k].key == key {
                    throw ParseFailure(offset: keyOffset, message: "duplicate key in object")
                }
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw ParseFailure(offset: index, message: "expected ':' after object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            scratch.members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw ParseFailure(offset: index, message: "unterminated object: expected ',' or '}'") }
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if b == UInt8(ascii: "}") { return .object(JSONObject(Array(scratch.members[base...]))) }
            throw ParseFailure(offset: index - 1, message: "expected ',' or '}' after object member")
        }
    }

    mutating func parseArray() throws(ParseFailure) -> JSONValue {
        depth += 1
        guard depth <= maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(maxDepth) levels", kind: .tooDeep) }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        let base = scratch.items.count
        defer { scratch.items.removeSubrange(base...) }
        while true {
            let item = try parseValue()
            scratch.items.append(item)
            skipWhitespace()
            guard index < bytes.count else { throw ParseFailure(offset: index, message: "unterminated array: expected ',' or ']'") }
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if b == UInt8(ascii: "]") { return .array(Array(scratch.items[base...])) }
            throw ParseFailure(offset: index - 1, message: "expected ',' or ']' after array element")
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as its text.
    mutating func parseNumber() throws(ParseFailure) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw ParseFailure(offset: index, message: "expected a digit in number", kind: .local)
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw ParseFailure(offset: start, message: "leading zeros are not allowed in a JSON number", kind: .local)
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw ParseFailure(offset: index, message: "expected a digit after the decimal point", kind: .local)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw ParseFailure(offset: index, message: "expected a digit in the exponent", kind: .local)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// Moves past one value without building or checking it and without recursion (to step over a
    /// refused record). False when the text ends before the value does.
    public mutating func skipValue() -> Bool {
        var depth = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true }   // the end of the container around a scalar
                depth -= 1
                index += 1
                if depth == 0 { return true }
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index += 1
                if depth == 0 { return index <= bytes.count }
            case UInt8(ascii: ","):
                if depth == 0 { return true }
                index += 1
            default: index += 1
            }
        }
        return false
    }

    /// A double-quoted string starting at `index`; leaves `index` after the closing quote.
    public mutating func parseString() throws(ParseFailure) -> String {
        let open = index
        index += 1
        let start = index
        var ascii = true
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                // `String(decoding:)` validates as it copies and repairs bad bytes to U+FFFD: only a
                // copy holding U+FFFD (repaired, or written so in the text) needs the exact check.
                var text = String(decoding: raw, as: UTF8.self)
                if text.withUTF8(Self.containsReplacementCharacter), let bad = UTF8Check.firstInvalidOffset(raw) {
                    throw ParseFailure(offset: start + bad, message: "string is not valid UTF-8", kind: .encoding)
                }
                return text
            }
            if b == UInt8(ascii: "\\") { return try parseEscapedString(open: open, start: start) }
            if b < 0x20 { throw ParseFailure(offset: index, message: "control character in string (escape it)", kind: .local) }
            if b >= 0x80 { ascii = false }
            index += 1
        }
        throw ParseFailure(offset: open, message: "unterminated string")
    }

    /// Whether UTF-8 text holds U+FFFD (EF BF BD).
    static func containsReplacementCharacter(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i + 2 < utf8.count {
            if utf8[i] == 0xEF, utf8[i + 1] == 0xBF, utf8[i + 2] == 0xBD { return true }
            i += 1
        }
        return false
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
                    throw ParseFailure(offset: start, message: "string is not valid UTF-8", kind: .encoding)
                }
                return String(decoding: buffer, as: UTF8.self)
            }
            if b < 0x20 { throw ParseFailure(offset: index, message: "control character in string (escape it)", kind: .local) }
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
                throw ParseFailure(offset: escapeOffset, message: "invalid escape sequence in string", kind: .local)
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
            throw ParseFailure(offset: escapeOffset, message: "\\u must be followed by 4 hex digits", kind: .local)
        }
        index += 4
        if high >= 0xD800 && high <= 0xDBFF {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                  let low = hex4(bytes, at: index + 2), low >= 0xDC00 && low <= 0xDFFF
            else {
                throw ParseFailure(offset: escapeOffset, message: "unpaired surrogate in \\u escape", kind: .local)
            }
            index += 6
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else {
            throw ParseFailure(offset: escapeOffset, message: "unpaired surrogate in \\u escape", kind: .local)
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
