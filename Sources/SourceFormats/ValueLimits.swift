/// The limits a decoded source record must keep before anything of it is sent to the database.
///
/// A reader accepts what its format allows, but not all of that can be stored: PostgreSQL text and
/// jsonb refuse the NUL character, jsonb numbers must fit PostgreSQL's `numeric`, and an index
/// entry (the source key) must stay small. A record that breaks a limit becomes a reject of its own
/// (rules `value.nul_character`, `value.out_of_range`, `value.too_long`, `value.too_deep`); the
/// rest of its batch is stored. Problems name the field and the rule, never the value.
public struct ValueLimits: Sendable, Equatable {
    /// Longest text value or member name, in UTF-8 bytes.
    public var maxTextBytes: Int
    /// Longest source key, in UTF-8 bytes (it is part of a B-tree index entry).
    public var maxSourceKeyBytes: Int
    /// Most significant digits in a number.
    public var maxNumberDigits: Int
    /// Largest decimal exponent (either sign) of a number, after normalizing its digits.
    public var maxNumberExponent: Int
    /// Deepest nesting of objects and arrays inside a record.
    public var maxDepth: Int

    public init(maxTextBytes: Int = 65_536, maxSourceKeyBytes: Int = 512, maxNumberDigits: Int = 1_000,
                maxNumberExponent: Int = 1_000, maxDepth: Int = 64) {
        self.maxTextBytes = maxTextBytes
        self.maxSourceKeyBytes = maxSourceKeyBytes
        self.maxNumberDigits = maxNumberDigits
        self.maxNumberExponent = maxNumberExponent
        self.maxDepth = maxDepth
    }

    /// The limits the hub applies to every record it stores.
    public static let standard = ValueLimits()

    /// Why a value cannot be stored.
    public enum Rule: String, Sendable {
        case nulCharacter = "value.nul_character"
        case outOfRange = "value.out_of_range"
        case tooLong = "value.too_long"
        case tooDeep = "value.too_deep"
    }

    /// One value that breaks a limit: where it is in the record and which rule it breaks.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// Path of the value in the record (`xm`, `mxb.gxy`, `items[2]`), or `source key`.
        public var field: String
        public var rule: Rule
        /// What is wrong, without the value.
        public var message: String

        public var description: String { "\(field): \(message) (\(rule.rawValue))" }
    }

    /// Every problem of a record (empty when it can be stored). Stops collecting after `limit`.
    public func problems(in record: SourceRecord, limit: Int = 20) -> [Problem] {
        var found: [Problem] = []
        if let key = record.sourceKey {
            if Self.holdsNUL(key) {
                found.append(Problem(field: "source key", rule: .nulCharacter, message: "the source key holds a NUL character"))
            } else if key.utf8.count > maxSourceKeyBytes {
                found.append(Problem(field: "source key", rule: .tooLong, message: "the source key is longer than \(maxSourceKeyBytes) bytes"))
            }
        }
        check(object: record.fields, path: "", depth: 1, into: &found, limit: limit)
        return found
    }

    private func check(object: SourceObject, path: String, depth: Int, into found: inout [Problem], limit: Int) {
        for i in 0..<object.count where found.count < limit {
            let name = object.keys[i]
            let field = path.isEmpty ? name : path + "." + name
            if let problem = textProblem(name, what: "the member name") {
                // The name itself cannot be shown; say where it sits instead.
                found.append(Problem(field: path.isEmpty ? "member \(i + 1)" : "\(path) member \(i + 1)", rule: problem.rule, message: problem.message))
                continue
            }
            check(value: object.values[i], path: field, depth: depth, into: &found, limit: limit)
        }
    }

    private func check(value: SourceValue, path: String, depth: Int, into found: inout [Problem], limit: Int) {
        switch value {
        case .null, .bool: return
        case .string(let s):
            if let problem = textProblem(s, what: "the text") { found.append(Problem(field: path, rule: problem.rule, message: problem.message)) }
        case .number(let n):
            if let message = numberProblem(n) { found.append(Problem(field: path, rule: .outOfRange, message: message)) }
        case .array(let items):
            guard depth < maxDepth else {
                found.append(Problem(field: path, rule: .tooDeep, message: "the value nests deeper than \(maxDepth) levels"))
                return
            }
            for (i, item) in items.enumerated() where found.count < limit {
                check(value: item, path: "\(path)[\(i)]", depth: depth + 1, into: &found, limit: limit)
            }
        case .object(let object):
            guard depth < maxDepth else {
                found.append(Problem(field: path, rule: .tooDeep, message: "the value nests deeper than \(maxDepth) levels"))
                return
            }
            check(object: object, path: path, depth: depth + 1, into: &found, limit: limit)
        }
    }

    /// Whether the text holds U+0000: a scan of its contiguous UTF-8 (the generic scan of a
    /// `String.UTF8View` costs about ten times as much, and every value of every record goes through here).
    static func holdsNUL(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { $0.contains(0) } ?? s.utf8.contains(0)
    }

    private func textProblem(_ s: String, what: String) -> (rule: Rule, message: String)? {
        let utf8 = s.utf8
        if utf8.count > maxTextBytes { return (.tooLong, "\(what) is longer than \(maxTextBytes) bytes") }
        if Self.holdsNUL(s) { return (.nulCharacter, "\(what) holds a NUL character (U+0000), which cannot be stored") }
        return nil
    }

    /// A JSON number literal (the only kind readers produce) that PostgreSQL's numeric, and any
    /// reasonable consumer, can hold: at most `maxNumberDigits` significant digits and a decimal
    /// exponent within ±`maxNumberExponent`.
    func numberProblem(_ literal: String) -> String? {
        var digits = 0          // significant digits (leading zeros not counted)
        var pointShift = 0      // digits after the decimal point
        var exponent = 0
        var inFraction = false
        var seenNonZero = false
        var bytes = literal.utf8.makeIterator()
        while let b = bytes.next() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if b != UInt8(ascii: "0") { seenNonZero = true }
                if seenNonZero { digits += 1 }
                if inFraction { pointShift += 1 }
                if digits > maxNumberDigits { return "the number has more than \(maxNumberDigits) digits" }
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                var negative = false
                var value = 0
                while let e = bytes.next() {
                    if e == UInt8(ascii: "-") { negative = true; continue }
                    if e == UInt8(ascii: "+") { continue }
                    guard e &- 0x30 < 10 else { return "the number is not a plain decimal number" }
                    value = min(value * 10 + Int(e - 0x30), 1 << 40)   // saturates: the range check below still fails
                }
                exponent = negative ? -value : value
            case UInt8(ascii: "-"), UInt8(ascii: "+"): continue
            default: return "the number is not a plain decimal number"
            }
        }
        guard seenNonZero else { return nil }   // zero, however written
        // Magnitude: the most significant digit's power of ten; scale: digits after the point.
        let magnitude = exponent + digits - pointShift - 1
        let scale = pointShift - exponent
        if magnitude > maxNumberExponent || magnitude < -maxNumberExponent || scale > maxNumberExponent + maxNumberDigits {
            return "the number is outside ±1e\(maxNumberExponent)"
        }
        return nil
    }
}
