import Foundation

/// Small text operations with ASCII fast paths (they run on every field of every record).
enum TextOps {
    /// Trims ASCII whitespace, U+3000 (ideographic space) and U+00A0. Returns `s` itself when
    /// there is nothing to trim (the common case).
    static func trim(_ s: String) -> String {
        let needsTrim = s.utf8.withContiguousStorageIfAvailable { b in
            !b.isEmpty && (isSpaceStart(b[0]) || isSpaceEnd(b[b.count - 1]))
        } ?? true
        if !needsTrim { return s }
        var scalars = Substring(s).unicodeScalars
        while let f = scalars.first, isSpace(f) { scalars.removeFirst() }
        while let l = scalars.last, isSpace(l) { scalars.removeLast() }
        return String(scalars)
    }

    /// Empty or only white space. Cheap for the usual value that starts with a non-space.
    @inline(__always)
    static func isBlank(_ s: String) -> Bool {
        let maybe = s.utf8.withContiguousStorageIfAvailable { b in b.isEmpty || isSpaceStart(b[0]) } ?? true
        return maybe && trim(s).isEmpty
    }

    /// Whether width folding would change anything but the edges: full-width forms (EF BC/BD ..),
    /// U+3000 (E3 80 80), U+00A0 (C2 A0), U+2000-205F spaces (E2 ..), BOM (EF BB BF). In UTF-8 these
    /// lead bytes never occur inside Chinese characters, so one byte scan decides.
    static func needsWidthFolding(_ s: String) -> Bool {
        return s.utf8.withContiguousStorageIfAvailable { b -> Bool in
            var i = 0
            while i < b.count {
                let c = b[i]
                if c >= 0xC2 {
                    if c == 0xEF || c == 0xC2 || c == 0xE2 { return true }
                    if c == 0xE3, i + 2 < b.count, b[i + 1] == 0x80, b[i + 2] == 0x80 { return true }
                }
                i += 1
            }
            return false
        } ?? true
    }

    @inline(__always) private static func isSpaceStart(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0xE3 || b == 0xC2 }
    @inline(__always) private static func isSpaceEnd(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0x80 || b == 0xA0 }
    @inline(__always) private static func isSpace(_ u: Unicode.Scalar) -> Bool {
        u == " " || (u.value >= 0x09 && u.value <= 0x0D) || u.value == 0x3000 || u.value == 0xA0
    }

    static func isASCII(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { b in
            for c in b where c >= 0x80 { return false }
            return true
        } ?? !s.utf8.contains { $0 >= 0x80 }
    }

    static func removeSpaces(_ s: String) -> String {
        let hasSpace = s.utf8.withContiguousStorageIfAvailable { b -> Bool in
            var i = 0
            while i < b.count {
                let c = b[i]
                if c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c == 0xC2 && i + 1 < b.count && b[i + 1] == 0xA0) { return true }
                if c == 0xE3, i + 2 < b.count, b[i + 1] == 0x80, b[i + 2] == 0x80 { return true }
                i += 1
            }
            return false
        } ?? true
        if !hasSpace { return s }
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
