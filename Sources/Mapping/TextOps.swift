import Foundation

/// Small text operations with ASCII fast paths (they run on every field of every record).
enum TextOps {
    /// Trims ASCII whitespace, U+3000 (ideographic space) and U+00A0.
    static func trim(_ s: String) -> String {
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last else { return s }
        if !isSpaceStart(first) && !isSpaceEnd(last) { return s }
        var scalars = Substring(s).unicodeScalars
        while let f = scalars.first, isSpace(f) { scalars.removeFirst() }
        while let l = scalars.last, isSpace(l) { scalars.removeLast() }
        return String(scalars)
    }

    @inline(__always) private static func isSpaceStart(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0xE3 || b == 0xC2 }
    @inline(__always) private static func isSpaceEnd(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0x80 || b == 0xA0 }
    @inline(__always) private static func isSpace(_ u: Unicode.Scalar) -> Bool {
        u == " " || (u.value >= 0x09 && u.value <= 0x0D) || u.value == 0x3000 || u.value == 0xA0
    }

    static func isASCII(_ s: String) -> Bool {
        for b in s.utf8 where b >= 0x80 { return false }
        return true
    }

    static func removeSpaces(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars where !isSpace(u) { out.append(u) }
        return String(out)
    }

    static func upper(_ s: String) -> String { isASCII(s) ? asciiMap(s, 0x61...0x7A, -32) : s.uppercased() }
    static func lower(_ s: String) -> String { isASCII(s) ? asciiMap(s, 0x41...0x5A, 32) : s.lowercased() }

    private static func asciiMap(_ s: String, _ range: ClosedRange<UInt8>, _ delta: Int) -> String {
        var changed = false
        for b in s.utf8 where range.contains(b) { changed = true; break }
        if !changed { return s }
        return String(decoding: s.utf8.map { range.contains($0) ? UInt8(Int($0) + delta) : $0 }, as: UTF8.self)
    }

    static func pad(_ s: String, length: Int, with c: Character) -> String {
        let n = s.count
        return n >= length ? s : String(repeating: c, count: length - n) + s
    }

    static func split(_ s: String, separator: String, index: Int) -> String? {
        let parts = s.components(separatedBy: separator)
        let i = index < 0 ? parts.count + index : index
        return parts.indices.contains(i) ? parts[i] : nil
    }
}
