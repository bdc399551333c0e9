/// A strict, fast JSON parser over UTF-8 bytes that produces `SourceValue`s (numbers keep their text).
///
/// Records arrive by the hundred thousand, so this works on raw bytes with no Foundation on the path.
/// It can parse one value, or walk a top-level array element by element (`JSONArrayCursor`).
struct JSONRecordParser {
    /// A syntax error at a byte offset; the caller turns it into a positioned `SourceFormatError`.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
        /// The value nests deeper than `maxDepth`: the text may be fine, the record is refused.
        var tooDeep = false
        /// A fault inside one string or number (bad bytes, escape, control character): the
        /// structure around it is intact, so a reader can step over the record and go on.
        var local = false
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var pos: Int
    var depth = 0
    static let maxDepth = 256
    /// Members of the objects being parsed, innermost last: each object is copied out at its exact
    /// size when it closes, instead of growing two arrays per object.
    var keyStack: [String] = []
    var valueStack: [SourceValue] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int = 0) {
        self.bytes = bytes
        self.pos = offset
    }

    /// The error item for one record's syntax error: bad UTF-8 is an encoding fault, the rest invalid JSON.
    static func recordError(_ error: SyntaxError, at locator: SourceLocator, column: Int) -> SourceFormatError {
        let kind: SourceFormatError.Kind = error.message.contains("UTF-8") ? .encoding : .invalidJSON
        return SourceFormatError(kind, at: locator, column: column, "invalid JSON: \(error.message)")
    }

    /// Parses exactly one value with only whitespace around it.
    static func parseSingle(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> SourceValue {
        var stacks = Stacks()
        return try parseSingle(bytes, stacks: &stacks)
    }

    /// The member stacks, kept by a reader across records so they are allocated once.
    struct Stacks {
        var keys: [String] = []
        var values: [SourceValue] = []
    }

    /// Parses exactly one value, reusing the caller's member stacks.
    static func parseSingle(_ bytes: UnsafeBufferPointer<UInt8>, stacks: inout Stacks) throws(SyntaxError) -> SourceValue {
        var parser = JSONRecordParser(bytes)
        swap(&parser.keyStack, &stacks.keys)
        swap(&parser.valueStack, &stacks.values)
        defer {
            swap(&parser.keyStack, &stacks.keys)
            swap(&parser.valueStack, &stacks.values)
        }
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.pos < bytes.count { throw SyntaxError(offset: parser.pos, message: "unexpected text after the value") }
        return value
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    mutating func parseValue() throws(SyntaxError) -> SourceValue {
        guard pos < bytes.count else { throw SyntaxError(offset: pos, message: "unexpected end of input, expected a value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw SyntaxError(offset: pos, message: "unexpected character, expected a value")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw SyntaxError(offset: pos, message: "unexpected end of input") }
        let p = word.utf8Start
        for i in 0..<n where bytes[pos + i] != p[i] {
            throw SyntaxError(offset: pos, message: "invalid literal, expected \(word)")
        }
        pos += n
    }

    mutating func parseObject() throws(SyntaxError) -> SourceObject {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw SyntaxError(offset: pos, message: "nesting deeper than \(Self.maxDepth)", tooDeep: true) }
        pos += 1
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return SourceObject() }
        let base = keyStack.count
        defer {
            keyStack.removeSubrange(base...)
            valueStack.removeSubrange(base...)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw SyntaxError(offset: pos, message: "expected a quoted member name")
            }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw SyntaxError(offset: pos, message: "expected ':' after a member name")
            }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            keyStack.append(key)
            valueStack.append(value)
            skipWhitespace()
            guard pos < bytes.count else { throw SyntaxError(offset: pos, message: "unexpected end of input inside an object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return SourceObject(keys: Array(keyStack[base...]), values: Array(valueStack[base...]))
            }
            throw SyntaxError(offset: pos, message: "expected ',' or '}' in an object")
        }
    }

    mutating func parseArray() throws(SyntaxError) -> SourceValue {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw SyntaxError(offset: pos, message: "nesting deeper than \(Self.maxDepth)", tooDeep: true) }
        pos += 1
        var items: [SourceValue] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard pos < bytes.count else { throw SyntaxError(offset: pos, message: "unexpected end of input inside an array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw SyntaxError(offset: pos, message: "expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws(SyntaxError) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw SyntaxError(offset: pos, message: "invalid number", local: true) }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) { throw SyntaxError(offset: pos, message: "invalid number (leading zero)", local: true) }
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw SyntaxError(offset: pos, message: "invalid number (no digits after '.')", local: true) }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw SyntaxError(offset: pos, message: "invalid number (bad exponent)", local: true) }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    /// Moves past one value without building it and without recursion (for a value nested too
    /// deep to parse). False when the text ends or breaks before the value does.
    mutating func skipValue() -> Bool {
        var depth = 0
        while pos < bytes.count {
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; pos += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true }   // the end of the container around a scalar
                depth -= 1
                pos += 1
                if depth == 0 { return true }
            case UInt8(ascii: "\""):
                pos += 1
                while pos < bytes.count, bytes[pos] != UInt8(ascii: "\"") {
                    pos += bytes[pos] == UInt8(ascii: "\\") ? 2 : 1
                }
                pos += 1
                if depth == 0 { return pos <= bytes.count }
            case UInt8(ascii: ","):
                if depth == 0 { return true }
                pos += 1
            default: pos += 1
            }
        }
        return false
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    mutating func parseString() throws(SyntaxError) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes. Validate UTF-8 while scanning for the closing quote.
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<pos])
                pos += 1
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw SyntaxError(offset: start, message: "string is not valid UTF-8", local: true)
                }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw SyntaxError(offset: pos, message: "control character in a string", local: true) }
            pos += 1
        }
        guard pos < bytes.count else { throw SyntaxError(offset: start - 1, message: "unterminated string") }
        var buffer = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                guard let s = String(validating: buffer, as: UTF8.self) else {
                    throw SyntaxError(offset: start, message: "string is not valid UTF-8", local: true)
                }
                return s
            }
            if b < 0x20 { throw SyntaxError(offset: pos, message: "control character in a string", local: true) }
            if b != UInt8(ascii: "\\") { buffer.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw SyntaxError(offset: pos, message: "unpaired surrogate in \\u escape", local: true)
                    }
                    pos += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw SyntaxError(offset: pos, message: "unpaired surrogate in \\u escape", local: true) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw SyntaxError(offset: pos, message: "unpaired surrogate in \\u escape", local: true)
                }
                guard let u = Unicode.Scalar(scalar) else { throw SyntaxError(offset: pos, message: "invalid \\u escape", local: true) }
                buffer.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw SyntaxError(offset: pos - 1, message: "invalid escape in a string", local: true)
            }
        }
        throw SyntaxError(offset: start - 1, message: "unterminated string")
    }

    private mutating func parseHex4() throws(SyntaxError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw SyntaxError(offset: pos, message: "incomplete \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - 0x41 + 10)
            default: throw SyntaxError(offset: pos, message: "invalid hex digit in \\u escape", local: true)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }
}

/// Line and column (1-based) of a byte offset, counted only when an error needs them.
enum TextPosition {
    static func lineColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>, startLine: Int = 1) -> (line: Int, column: Int) {
        var line = startLine
        var lineStart = 0
        let end = min(offset, bytes.count)
        var i = 0
        while i < end {
            if bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
            i += 1
        }
        return (line, end - lineStart + 1)
    }
}
