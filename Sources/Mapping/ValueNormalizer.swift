/// Turns a transformed text into a canonical value of the target type. Hand-written on UTF-8
/// (no NumberFormatter/DateFormatter): it runs for every field of every record.
enum ValueNormalizer {
    enum Outcome {
        case value(CanonicalValue)
        case warning(CanonicalValue, rule: String, message: String)
        case invalid(rule: String, message: String)
    }

    /// Canonical integer text: optional minus, no leading zeros, no `+`.
    static func integer(_ text: String) -> String? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let f = bytes.first, f == 0x2B || f == 0x2D { negative = f == 0x2D; bytes = bytes.dropFirst() }
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 &- 0x30 < 10 }) else { return nil }
        while bytes.count > 1, bytes.first == 0x30 { bytes = bytes.dropFirst() }
        let digits = String(decoding: bytes, as: UTF8.self)
        return negative && digits != "0" ? "-" + digits : digits
    }

    /// Canonical decimal text: `0012.50` -> `12.5`, `3.00` -> `3`, `.5` -> `0.5`.
    static func decimal(_ text: String) -> String? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let f = bytes.first, f == 0x2B || f == 0x2D { negative = f == 0x2D; bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count <= 2, !bytes.isEmpty else { return nil }
        var whole = parts[0]
        var fraction = parts.count == 2 ? parts[1] : []
        guard whole.allSatisfy({ $0 &- 0x30 < 10 }), fraction.allSatisfy({ $0 &- 0x30 < 10 }), !(whole.isEmpty && fraction.isEmpty) else { return nil }
        guard whole.count + fraction.count <= 30 else { return nil }
        while whole.count > 1, whole.first == 0x30 { whole = whole.dropFirst() }
        while let l = fraction.last, l == 0x30 { fraction = fraction.dropLast() }
        var out = whole.isEmpty ? "0" : String(decoding: whole, as: UTF8.self)
        if !fraction.isEmpty { out += "." + String(decoding: fraction, as: UTF8.self) }
        return negative && out != "0" ? "-" + out : out
    }

    static let trueWords: Set<String> = ["1", "true", "TRUE", "True", "y", "Y", "yes", "YES", "是", "有", "T"]
    static let falseWords: Set<String> = ["0", "false", "FALSE", "False", "n", "N", "no", "NO", "否", "无", "F"]

    static func boolean(_ text: String) -> Bool? {
        if trueWords.contains(text) { return true }
        if falseWords.contains(text) { return false }
        return nil
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS]` (optionally with `Z` or `+08:00`) -> `YYYY-MM-DDTHH:MM:SS+08:00` (a zone
    /// written in the source is kept; none means China Standard Time).
    static func datetime(_ text: String, rules: any MappingRules) -> String? {
        let b = Array(text.utf8)
        if b.count >= 16, b[10] == 0x54 || b[10] == 0x20 {
            let datePart = String(decoding: b[0..<10], as: UTF8.self)
            guard DateMath.isCanonical(datePart) else { return nil }
            let t = b[11...]
            func two(_ i: Int) -> Int? {
                guard i + 1 < b.count, b[i] &- 0x30 < 10, b[i + 1] &- 0x30 < 10 else { return nil }
                return Int(b[i] - 0x30) * 10 + Int(b[i + 1] - 0x30)
            }
            guard let h = two(11), b[13] == 0x3A, let m = two(14), h < 24, m < 60 else { return nil }
            var s = 0
            var rest = t.startIndex + 5
            if rest < b.count, b[rest] == 0x3A {
                guard let sec = two(rest + 1), sec < 61 else { return nil }
                s = sec
                rest += 3
                if rest < b.count, b[rest] == 0x2E { rest += 1; while rest < b.count, b[rest] &- 0x30 < 10 { rest += 1 } }
            }
            let zone = String(decoding: b[rest...], as: UTF8.self)
            guard zone.isEmpty || zone == "Z" || (zone.utf8.count == 6 && (zone.hasPrefix("+") || zone.hasPrefix("-"))) else { return nil }
            func p(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(datePart)T\(p(h)):\(p(m)):\(p(s))\(zone.isEmpty ? "+08:00" : zone)"
        }
        if case .valid(let d) = rules.normalizeDate(text) { return d + "T00:00:00+08:00" }
        return nil
    }
}
