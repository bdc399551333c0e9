/// Full JSON5 (https://spec.json5.org) into a positioned ``JSONNode`` tree, for configuration files.
///
/// Comments, trailing commas, identifier keys, single-quoted strings, hex numbers, `Infinity`/`NaN`,
/// leading and trailing decimal points, explicit `+`, line continuations and the JSON5 whitespace
/// set are accepted. Duplicate keys are an error that names the line of the first one.
struct JSON5DocumentParser {
    let bytes: UnsafeRawBufferPointer
    let lines: LineTable
    var index = 0
    var depth = 0
    static let maxDepth = 512

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.lines = LineTable(bytes)
    }

    func position(_ offset: Int) -> SourcePosition { lines.position(of: offset, in: bytes) }

    mutating func parseDocument() throws(ParseFailure) -> JSONNode {
        if let bad = UTF8Check.firstInvalidOffset(bytes) {
            throw ParseFailure(offset: bad, message: "text is not valid UTF-8")
        }
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        try skipBlank()
        guard index < bytes.count else { throw ParseFailure(offset: index, message: "expected a value, found end of input") }
        let node = try parseValue()
        try skipBlank()
        if index < bytes.count {
            throw ParseFailure(offset: index, message: "unexpected characters after the value")
        }
        return node
    }

    // MARK: whitespace and comments

    /// Skips whitespace and comments.
    mutating func skipBlank() throws(ParseFailure) {
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20:
                index += 1
            case UInt8(ascii: "/"):
                guard index + 1 < bytes.count else { throw ParseFailure(offset: index, message: "unexpected '/'") }
                if bytes[index + 1] == UInt8(ascii: "/") {
                    index += 2
                    while index < bytes.count, !isLineTerminator(at: index) { index += 1 }
                } else if bytes[index + 1] == UInt8(ascii: "*") {
                    let start = index
                    index += 2
                    while true {
                        guard index + 1 < bytes.count else { throw ParseFailure(offset: start, message: "unterminated block comment") }
                        if bytes[index] == UInt8(ascii: "*"), bytes[index + 1] == UInt8(ascii: "/") { index += 2; break }
                        index += 1
                    }
                } else {
                    throw ParseFailure(offset: index, message: "unexpected '/' (comments start with // or /*)")
                }
            default:
                guard b >= 0x80 else { return }
                let (scalar, length) = UTF8Check.decode(bytes, at: index)
                guard Self.isJSON5Space(scalar) else { return }
                index += length
            }
        }
    }

    static func isJSON5Space(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0xA0, 0xFEFF, 0x2028, 0x2029: true
        default: s.properties.generalCategory == .spaceSeparator
        }
    }

    func isLineTerminator(at i: Int) -> Bool {
        let b = bytes[i]
        if b == 0x0A || b == 0x0D { return true }
        return b == 0xE2 && i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
    }

    // MARK: values

    mutating func parseValue() throws(ParseFailure) -> JSONNode {
        guard index < bytes.count else { throw ParseFailure(offset: index, message: "expected a value, found end of input") }
        let start = index
        let pos = position(start)
        let kind: JSONNode.Kind
        switch bytes[index] {
        case UInt8(ascii: "{"): kind = try parseObject()
        case UInt8(ascii: "["): kind = try parseArray()
        case UInt8(ascii: "\""), UInt8(ascii: "'"): kind = .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "I"), UInt8(ascii: "N"):
            kind = .number(try parseNumber())
        case UInt8(ascii: "t"): try expectWord("true"); kind = .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); kind = .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); kind = .null
        default: throw ParseFailure(offset: index, message: "expected a value")
        }
        return JSONNode(position: pos, kind: kind)
    }

    mutating func expectWord(_ word: String) throws(ParseFailure) {
        let start = index
        for b in word.utf8 {
            guard index < bytes.count, bytes[index] == b else { throw ParseFailure(offset: start, message: "expected a value") }
            index += 1
        }
        if index < bytes.count, isIdentifierPartByte(bytes[index]) {
            throw ParseFailure(offset: start, message: "expected a value")
        }
    }

    func isIdentifierPartByte(_ b: UInt8) -> Bool {
        (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || isDigit(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "$")
    }

    mutating func parseObject() throws(ParseFailure) -> JSONNode.Kind {
        depth += 1
        guard depth <= Self.maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        let open = index
        index += 1
        var members: [JSONNode.Member] = []
        while true {
            try skipBlank()
            guard index < bytes.count else { throw ParseFailure(offset: open, message: "unterminated object: '{' is never closed") }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            let keyOffset = index
            let keyPosition = position(keyOffset)
            let key = try parseKey()
            if let first = members.first(where: { $0.key == key }) {
                throw ParseFailure(offset: keyOffset,
                                   message: "duplicate key '\(Self.short(key))' (first defined at line \(first.keyPosition.line))")
            }
            try skipBlank()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw ParseFailure(offset: index, message: "expected ':' after key '\(Self.short(key))'")
            }
            index += 1
            try skipBlank()
            let value = try parseValue()
            members.append(JSONNode.Member(key: key, keyPosition: keyPosition, value: value))
            try skipBlank()
            guard index < bytes.count else { throw ParseFailure(offset: open, message: "unterminated object: '{' is never closed") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw ParseFailure(offset: index, message: "expected ',' or '}' after object member")
        }
    }

    mutating func parseArray() throws(ParseFailure) -> JSONNode.Kind {
        depth += 1
        guard depth <= Self.maxDepth else { throw ParseFailure(offset: index, message: "nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        let open = index
        index += 1
        var items: [JSONNode] = []
        while true {
            try skipBlank()
            guard index < bytes.count else { throw ParseFailure(offset: open, message: "unterminated array: '[' is never closed") }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            items.append(try parseValue())
            try skipBlank()
            guard index < bytes.count else { throw ParseFailure(offset: open, message: "unterminated array: '[' is never closed") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw ParseFailure(offset: index, message: "expected ',' or ']' after array element")
        }
    }

    /// Keys are strings (either quote) or ECMAScript identifier names.
    mutating func parseKey() throws(ParseFailure) -> String {
        let b = bytes[index]
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { return try parseString() }
        var scalars = String.UnicodeScalarView()
        while index < bytes.count {
            let start = index
            var scalar: Unicode.Scalar
            if bytes[index] == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw ParseFailure(offset: index, message: "invalid escape in key (only \\u is allowed)")
                }
                index += 2
                scalar = try UnicodeEscape.read(bytes, at: &index, escapeOffset: start)
            } else {
                let (s, length) = UTF8Check.decode(bytes, at: index)
                scalar = s
                index += length
            }
            let ok = scalars.isEmpty ? Self.isIdentifierStart(scalar) : Self.isIdentifierPart(scalar)
            if !ok {
                index = start
                break
            }
            scalars.append(scalar)
        }
        if scalars.isEmpty { throw ParseFailure(offset: index, message: "expected a key (a string or an identifier)") }
        return String(scalars)
    }

    static func isIdentifierStart(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let c = UInt8(s.value)
            return c == UInt8(ascii: "$") || c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .letterNumber: return true
        default: return false
        }
    }

    static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool {
        if isIdentifierStart(s) { return true }
        if s.isASCII { return isDigit(UInt8(s.value)) }
        if s.value == 0x200C || s.value == 0x200D { return true }
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// A JSON5 number, normalized to JSON-like decimal text (see ``JSONValue``).
    mutating func parseNumber() throws(ParseFailure) -> String {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let sign = negative ? "-" : ""
        guard index < bytes.count else { throw ParseFailure(offset: start, message: "expected a number") }
        if bytes[index] == UInt8(ascii: "I") {
            try expectWord("Infinity")
            return sign + "Infinity"
        }
        if bytes[index] == UInt8(ascii: "N") {
            try expectWord("NaN")
            return "NaN"
        }
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "x") {
            index += 2
            var value: UInt64 = 0
            let digitsStart = index
            while index < bytes.count, let d = UnicodeEscape.hexValue(bytes[index]) {
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 16)
                guard !overflow else { throw ParseFailure(offset: start, message: "hexadecimal number too large") }
                value = shifted + UInt64(d)
                index += 1
            }
            guard index > digitsStart else { throw ParseFailure(offset: index, message: "expected hex digits after 0x") }
            try expectNumberEnd(start)
            return value == 0 ? "0" : sign + String(value)
        }
        var text = sign
        let intStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        let intCount = index - intStart
        if intCount > 1, bytes[intStart] == UInt8(ascii: "0") {
            throw ParseFailure(offset: start, message: "leading zeros are not allowed in a number (write codes as strings: \"01\")")
        }
        text += intCount == 0 ? "0" : String(decoding: UnsafeRawBufferPointer(rebasing: bytes[intStart..<index]), as: UTF8.self)
        var fracCount = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fracStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            fracCount = index - fracStart
            if fracCount > 0 {
                text += "." + String(decoding: UnsafeRawBufferPointer(rebasing: bytes[fracStart..<index]), as: UTF8.self)
            }
        }
        guard intCount + fracCount > 0 else { throw ParseFailure(offset: start, message: "expected a number") }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            let expStart = index
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > digitsStart else { throw ParseFailure(offset: index, message: "expected a digit in the exponent") }
            text += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[expStart..<index]), as: UTF8.self)
        }
        try expectNumberEnd(start)
        return text
    }

    /// A number must not run straight into letters (`12abc`).
    func expectNumberEnd(_ start: Int) throws(ParseFailure) {
        if index < bytes.count, isIdentifierPartByte(bytes[index]) {
            throw ParseFailure(offset: start, message: "invalid number")
        }
    }

    /// A single- or double-quoted JSON5 string starting at `index`.
    mutating func parseString() throws(ParseFailure) -> String {
        let open = index
        let quote = bytes[index]
        index += 1
        var buffer: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            if b == quote {
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if b == 0x0A || b == 0x0D {
                throw ParseFailure(offset: open, message: "unterminated string (a line break must be escaped)")
            }
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
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"):
                buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "v"): buffer.append(0x0B)
            case UInt8(ascii: "0"):
                if index < bytes.count, isDigit(bytes[index]) {
                    throw ParseFailure(offset: escapeOffset, message: "octal escapes are not allowed in strings")
                }
                buffer.append(0)
            case UInt8(ascii: "1")...UInt8(ascii: "9"):
                throw ParseFailure(offset: escapeOffset, message: "invalid escape sequence in string (digit after backslash)")
            case UInt8(ascii: "x"):
                guard index + 2 <= bytes.count, let h = UnicodeEscape.hexValue(bytes[index]), let l = UnicodeEscape.hexValue(bytes[index + 1]) else {
                    throw ParseFailure(offset: escapeOffset, message: "\\x must be followed by 2 hex digits")
                }
                index += 2
                UnicodeEscape.appendUTF8(Unicode.Scalar(h << 4 | l), to: &buffer)
            case UInt8(ascii: "u"):
                let scalar = try UnicodeEscape.read(bytes, at: &index, escapeOffset: escapeOffset)
                UnicodeEscape.appendUTF8(scalar, to: &buffer)
            case 0x0A:
                break // line continuation
            case 0x0D:
                if index < bytes.count, bytes[index] == 0x0A { index += 1 }
            case 0xE2 where index + 1 < bytes.count && bytes[index] == 0x80 && (bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9):
                index += 2 // line continuation with U+2028 / U+2029
            default:
                // Any other character escapes to itself (\' \" \\ \/ and non-escape characters).
                let (_, length) = UTF8Check.decode(bytes, at: index - 1)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(index - 1)..<(index - 1 + length)]))
                index += length - 1
            }
        }
        throw ParseFailure(offset: open, message: "unterminated string")
    }

    /// At most 40 characters of a key, for messages.
    static func short(_ key: String) -> String {
        key.count <= 40 ? key : String(key.prefix(40)) + "…"
    }
}

/// UTF-8 validation and decoding on raw bytes.
enum UTF8Check {
    /// The offset of the first byte that is not part of a well-formed UTF-8 sequence, or nil.
    static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            var minimum: UInt32
            switch b {
            case 0xC2...0xDF: length = 2; minimum = 0x80
            case 0xE0...0xEF: length = 3; minimum = 0x800
            case 0xF0...0xF4: length = 4; minimum = 0x10000
            default: return i
            }
            guard i + length <= n else { return i }
            var v = UInt32(b) & (0xFF >> (length + 1))
            for k in 1..<length {
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { return i }
                v = v << 6 | UInt32(c & 0x3F)
            }
            if v < minimum || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) { return i }
            minimum = 0
            i += length
        }
        return nil
    }

    /// Decodes the scalar at `i` of already validated UTF-8.
    @inline(__always)
    static func decode(_ bytes: UnsafeRawBufferPointer, at i: Int) -> (Unicode.Scalar, Int) {
        let b = bytes[i]
        if b < 0x80 { return (Unicode.Scalar(b), 1) }
        let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
        var v = UInt32(b) & (0xFF >> (length + 1))
        for k in 1..<length where i + k < bytes.count { v = v << 6 | UInt32(bytes[i + k] & 0x3F) }
        return (Unicode.Scalar(v) ?? "\u{FFFD}", length)
    }
}
