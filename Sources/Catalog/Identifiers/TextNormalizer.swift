/// Width folding and trimming of free text: the part of NFKC that department data needs.
///
/// Full-width ASCII forms (U+FF01-FF5E) become ASCII, U+3000 and U+00A0 become spaces, and
/// leading/trailing white space is trimmed. Other characters (Chinese text, rare characters
/// beyond the BMP) are kept as they are. ASCII input takes a fast path with no copy when there
/// is nothing to trim, and so does text with no character that folds.
public enum TextNormalizer {
    public static func fold(_ text: String) -> String {
        // Only lead bytes C2 (NBSP), E2 (U+2000 spaces), E3 (U+3000) and EF (full-width forms, BOM)
        // can start something to fold; Chinese text (E4-E9) takes the fast path.
        var needsFolding = false
        for b in text.utf8 where b == 0xC2 || b == 0xE2 || b == 0xE3 || b == 0xEF { needsFolding = true; break }
        if !needsFolding { return trimASCII(text) }
        var text = text
        return text.withUTF8 { input in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: input.count) { out in
                let n = foldBytes(input, into: out)
                var start = 0
                var end = n
                while start < end, isBlank(out[start]) { start += 1 }
                while end > start, isBlank(out[end - 1]) { end -= 1 }
                return String(decoding: UnsafeMutableBufferPointer(rebasing: out[start..<end]), as: UTF8.self)
            }
        }
    }

    /// Byte-level fold of valid UTF-8; the output is never longer than the input. Returns its length.
    static func foldBytes(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = 0
        var n = 0
        let count = input.count
        while i < count {
            let b = input[i]
            if i + 2 < count {
                let b1 = input[i + 1], b2 = input[i + 2]
                var replacement: UInt8? = nil
                var skip = false
                switch b {
                case 0xEF:
                    if b1 == 0xBC, b2 >= 0x81 { replacement = b2 - 0x81 + 0x21 } // U+FF01-FF3F
                    else if b1 == 0xBD, b2 <= 0x9E { replacement = b2 - 0x80 + 0x60 } // U+FF40-FF5E
                    else if b1 == 0xBB, b2 == 0xBF { skip = true } // U+FEFF
                case 0xE3:
                    if b1 == 0x80, b2 == 0x80 { replacement = 0x20 } // U+3000
                case 0xE2:
                    if b1 == 0x80, b2 <= 0x8A || b2 == 0xAF { replacement = 0x20 } // U+2000-200A, U+202F
                    else if b1 == 0x80, b2 == 0x8B { skip = true } // U+200B
                    else if b1 == 0x81, b2 == 0x9F { replacement = 0x20 } // U+205F
                default:
                    break
                }
                if let replacement {
                    out[n] = replacement
                    n += 1
                    i += 3
                    continue
                }
                if skip {
                    i += 3
                    continue
                }
            }
            if b == 0xC2, i + 1 < count, input[i + 1] == 0xA0 { // U+00A0
                out[n] = 0x20
                n += 1
                i += 2
                continue
            }
            out[n] = b
            n += 1
            i += 1
        }
        return n
    }

    /// Folds, then collapses runs of inner white space to one space (names, addresses).
    public static func foldCollapsingSpaces(_ text: String) -> String {
        let folded = fold(text)
        guard folded.utf8.contains(0x20) || folded.utf8.contains(0x09) else { return folded }
        var out: [UInt8] = []
        out.reserveCapacity(folded.utf8.count)
        for b in folded.utf8 {
            let blank = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
            if blank { if out.last != 0x20 { out.append(0x20) } } else { out.append(b) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    static func trimASCII(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if !isBlank(first) && !isBlank(last) { return text }
        guard let start = utf8.firstIndex(where: { !isBlank($0) }) else { return "" }
        let end = utf8.lastIndex(where: { !isBlank($0) })!
        return String(text[start...end])
    }
}
