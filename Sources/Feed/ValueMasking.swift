import Catalog
import Secrets

/// The masking conventions of standards.md, applied to a value's text.
///
/// Works on Unicode characters (a name's first character may be a rare CJK character outside the
/// BMP). Never fails: a value too short to mask by its convention is fully starred.
public enum ValueMasking {
    /// `hint` decides the convention; a field without one is masked by its type (dates keep the
    /// year, everything else is starred out).
    public static func mask(_ text: String, hint: MaskingHint?, type: FieldType) -> String {
        switch hint {
        case .idNumber?: return keep(text, first: 6, last: 4)
        case .mobile?: return keep(text, first: 3, last: 4)
        case .name?: return keep(text, first: 1, last: 0)
        case .address?: return streetLevel(text)
        case .suppress?: return "***"
        case nil:
            if type == .date || type == .datetime, text.count >= 4 { return String(text.prefix(4)) }
            return "***"
        }
    }

    /// Keeps `first` and `last` characters and stars the rest (at least one star).
    static func keep(_ text: String, first: Int, last: Int) -> String {
        if let fast = SingleScalarText(text) { return fast.keep(first: first, last: last) }
        return keepByCharacters(text, first: first, last: last)
    }

    /// `keep` on Characters, for any text.
    static func keepByCharacters(_ text: String, first: Int, last: Int) -> String {
        let characters = Array(text)
        guard characters.count > first + last else { return String(repeating: "*", count: max(1, characters.count)) }
        let hidden = characters.count - first - last
        return String(characters[..<first]) + String(repeating: "*", count: hidden) + String(characters[(characters.count - last)...])
    }

    /// Markers that end the street (township) level of a Chinese address, in the order tried.
    static let streetMarkers = ["街道", "镇", "乡"]
    static let streetMarkerBytes = streetMarkers.map { Array($0.utf8) }

    /// The address up to and including its street, township or town, then `***`. Without such a
    /// marker, only the first 6 characters (about the district level) are kept.
    static func streetLevel(_ text: String) -> String {
        if let fast = SingleScalarText(text) { return fast.streetLevel(markers: streetMarkerBytes) }
        return streetLevelByCharacters(text)
    }

    /// `streetLevel` with Foundation's search and Characters, for any text.
    static func streetLevelByCharacters(_ text: String) -> String {
        for marker in streetMarkers {
            if let range = text.range(of: marker) {
                return String(text[..<range.upperBound]) + "***"
            }
        }
        return keepByCharacters(text, first: min(6, max(0, text.count - 1)), last: 0)
    }

    /// `mask` of text given as UTF-8 bytes, appended as a JSON string literal: on the bytes when
    /// the text is `SingleScalarText` (no String made), through `mask` otherwise. Same result.
    static func appendMasked(_ text: UnsafeRawBufferPointer, hint: MaskingHint?, type: FieldType, into out: inout [UInt8]) {
        guard !text.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }), let fast = SingleScalarText(utf8: text) else {
            JSONBuilder.quote(mask(String(decoding: text, as: UTF8.self), hint: hint, type: type), into: &out)
            return
        }
        out.append(0x22)
        switch hint {
        case .idNumber?: fast.keep(first: 6, last: 4, into: &out)
        case .mobile?: fast.keep(first: 3, last: 4, into: &out)
        case .name?: fast.keep(first: 1, last: 0, into: &out)
        case .address?: fast.streetLevel(markers: streetMarkerBytes, into: &out)
        case .suppress?: out.append(contentsOf: "***".utf8)
        case nil:
            if type == .date || type == .datetime, fast.count >= 4 {
                fast.prefix(4, into: &out)
            } else {
                out.append(contentsOf: "***".utf8)
            }
        }
        out.append(0x22)
    }

    /// `pseudonym` of text given as UTF-8 bytes, appended as a JSON string literal.
    static func appendPseudonym(_ text: UnsafeRawBufferPointer, key: [UInt8], into out: inout [UInt8]) {
        out.append(0x22)
        out.append(contentsOf: "ps_".utf8)
        out.append(contentsOf: Secrets.base64URL(Secrets.hmacSHA256(key: key, message: Array(text))).utf8)
        out.append(0x22)
    }

    /// The pseudonym of a value under a subscription's key: base64url of HMAC-SHA256, prefixed
    /// `ps_` so it is never mistaken for a real identifier. The same value gives the same pseudonym
    /// in every field of that subscription, so its records can still be joined with each other.
    public static func pseudonym(_ text: String, key: [UInt8]) -> String {
        "ps_" + Secrets.base64URL(Secrets.hmacSHA256(key: key, message: Array(text.utf8)))
    }
}

/// Text in which every Unicode scalar is a character of its own, masked on its UTF-8 bytes with
/// the same result as the Character-based path (which was most of the feed's masking cost).
///
/// Only ASCII without CR and the CJK Unified Ideographs (U+3400-U+4DBF, U+4E00-U+9FFF) qualify:
/// grapheme breaking never joins two such scalars (they are neither Extend, ZWJ, SpacingMark,
/// Prepend, Hangul nor regional indicators; only CR LF joins ASCII), so counting scalars is
/// counting characters. None has a canonical decomposition, so a byte search finds what
/// Foundation's `range(of:)` finds. Any other text (names with rare characters, combining
/// marks) takes the general path.
struct SingleScalarText {
    let bytes: [UInt8]
    /// The number of scalars (= characters).
    let count: Int

    init?(_ text: String) {
        self.init(utf8: text.utf8)
    }

    init?<C: Collection>(utf8: C) where C.Element == UInt8 {
        var n = 0
        var i = utf8.startIndex
        let end = utf8.endIndex
        while i != end {
            let b0 = utf8[i]
            if b0 < 0x80 {
                if b0 == 0x0D { return nil }
                i = utf8.index(after: i)
            } else {
                guard b0 >= 0xE3 && b0 <= 0xE9 else { return nil }
                let i1 = utf8.index(after: i)
                guard i1 != end else { return nil }
                let i2 = utf8.index(after: i1)
                guard i2 != end else { return nil }
                let scalar = (UInt32(b0 & 0x0F) << 12) | (UInt32(utf8[i1] & 0x3F) << 6) | UInt32(utf8[i2] & 0x3F)
                guard (0x3400...0x4DBF).contains(scalar) || (0x4E00...0x9FFF).contains(scalar) else { return nil }
                i = utf8.index(after: i2)
            }
            n += 1
        }
        bytes = Array(utf8)
        count = n
    }

    /// The byte offset of the scalar at `index` (0...count).
    private func offset(ofScalar index: Int) -> Int {
        var o = 0
        for _ in 0..<index { o += bytes[o] < 0x80 ? 1 : 3 }
        return o
    }

    /// `ValueMasking.keep` on this text.
    func keep(first: Int, last: Int) -> String {
        var out: [UInt8] = []
        keep(first: first, last: last, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `keep`, appending its UTF-8 to `out`.
    func keep(first: Int, last: Int, into out: inout [UInt8]) {
        guard count > first + last else {
            out.append(contentsOf: repeatElement(UInt8(ascii: "*"), count: max(1, count)))
            return
        }
        let head = offset(ofScalar: first)
        let tail = offset(ofScalar: count - last)
        out.append(contentsOf: bytes[..<head])
        out.append(contentsOf: repeatElement(UInt8(ascii: "*"), count: count - first - last))
        out.append(contentsOf: bytes[tail...])
    }

    /// The first `n` characters (`String(text.prefix(n))`), appended to `out`.
    func prefix(_ n: Int, into out: inout [UInt8]) {
        out.append(contentsOf: bytes[..<offset(ofScalar: min(n, count))])
    }

    /// `ValueMasking.streetLevel` on this text.
    func streetLevel(markers: [[UInt8]]) -> String {
        var out: [UInt8] = []
        streetLevel(markers: markers, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `streetLevel`, appending its UTF-8 to `out`.
    func streetLevel(markers: [[UInt8]], into out: inout [UInt8]) {
        for marker in markers {
            if let end = endOfFirst(marker) {
                out.append(contentsOf: bytes[..<end])
                out.append(contentsOf: "***".utf8)
                return
            }
        }
        keep(first: min(6, max(0, count - 1)), last: 0, into: &out)
    }

    /// The byte offset just past the first occurrence of `marker` starting on a scalar boundary.
    private func endOfFirst(_ marker: [UInt8]) -> Int? {
        guard !marker.isEmpty, marker.count <= bytes.count else { return nil }
        var o = 0
        while o + marker.count <= bytes.count {
            if bytes[o] == marker[0] && bytes[o..<(o + marker.count)].elementsEqual(marker) { return o + marker.count }
            o += bytes[o] < 0x80 ? 1 : 3
        }
        return nil
    }
}
