import Foundation

/// The character encoding of a text source (CSV files come in UTF-8 or GB18030/GBK).
public enum TextEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    /// GB18030 (2022), a superset of GBK and GB2312: GBK data decodes as GB18030.
    case gb18030

    /// Parses a declared encoding name (`utf-8`, `utf8`, `gb18030`, `gbk`, `gb2312`, any case).
    public init?(name: String) {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "utf-8", "utf8": self = .utf8
        case "gb18030", "gbk", "gb2312", "cp936": self = .gb18030
        default: return nil
        }
    }

    static let foundationGB18030 = String.Encoding(rawValue: 0x8000_0632)

    /// Decodes bytes; nil when they are not valid in this encoding. ASCII takes a fast path.
    public func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        switch self {
        case .utf8:
            return String(validating: bytes, as: UTF8.self)
        case .gb18030:
            return String(data: Data(bytes), encoding: Self.foundationGB18030)
        }
    }

    /// The encoding of a text that declares none: a BOM decides; else bytes that are valid UTF-8
    /// (a sequence cut at the end of the sample is allowed) are UTF-8, anything else is GB18030.
    static func detect(sample: ArraySlice<UInt8>, complete: Bool) -> TextEncoding {
        if sample.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        if sample.starts(with: [0x84, 0x31, 0x95, 0x33]) { return .gb18030 }
        return isValidUTF8(sample, allowTruncatedEnd: !complete) ? .utf8 : .gb18030
    }

    /// Checks UTF-8 validity by hand so a multi-byte sequence cut by the chunk boundary is accepted.
    static func isValidUTF8(_ bytes: ArraySlice<UInt8>, allowTruncatedEnd: Bool) -> Bool {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            if b & 0xE0 == 0xC0 { length = 2; if b < 0xC2 { return false } }
            else if b & 0xF0 == 0xE0 { length = 3 }
            else if b & 0xF8 == 0xF0 { length = 4; if b > 0xF4 { return false } }
            else { return false }
            if i + length > end {
                guard allowTruncatedEnd else { return false }
                for j in (i + 1)..<end where bytes[j] & 0xC0 != 0x80 { return false }
                return true
            }
            for j in (i + 1)..<(i + length) where bytes[j] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }
}
