/// Width folding and trimming of free text: the part of NFKC that department data needs.
///
/// Full-width ASCII forms (U+FF01-FF5E) become ASCII, U+3000 and U+00A0 become spaces, and
/// leading/trailing white space is trimmed. Other characters (Chinese text, rare characters
/// beyond the BMP) are kept as they are. ASCII input takes a fast path with no copy when there
/// is nothing to trim.
public enum TextNormalizer {
    public static func fold(_ text: String) -> String {
        var allASCII = true
        for b in text.utf8 where b >= 0x80 { allASCII = false; break }
        if allASCII { return trimASCII(text) }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v >= 0xFF01 && v <= 0xFF5E {
                scalars.append(Unicode.Scalar(v - 0xFEE0)!)
            } else if v == 0x3000 || v == 0x00A0 || (v >= 0x2000 && v <= 0x200A) || v == 0x202F || v == 0x205F {
                scalars.append(" ")
            } else if v == 0xFEFF || v == 0x200B {
                continue // byte-order mark / zero-width space: invisible debris from spreadsheets
            } else {
                scalars.append(scalar)
            }
        }
        return trimASCII(String(scalars))
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
