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
        let characters = Array(text)
        guard characters.count > first + last else { return String(repeating: "*", count: max(1, characters.count)) }
        let hidden = characters.count - first - last
        return String(characters[..<first]) + String(repeating: "*", count: hidden) + String(characters[(characters.count - last)...])
    }

    /// Markers that end the street (township) level of a Chinese address, in the order tried.
    static let streetMarkers = ["街道", "镇", "乡"]

    /// The address up to and including its street, township or town, then `***`. Without such a
    /// marker, only the first 6 characters (about the district level) are kept.
    static func streetLevel(_ text: String) -> String {
        for marker in streetMarkers {
            if let range = text.range(of: marker) {
                return String(text[..<range.upperBound]) + "***"
            }
        }
        return keep(text, first: min(6, max(0, text.count - 1)), last: 0)
    }

    /// The pseudonym of a value under a subscription's key: base64url of HMAC-SHA256, prefixed
    /// `ps_` so it is never mistaken for a real identifier. The same value gives the same pseudonym
    /// in every field of that subscription, so its records can still be joined with each other.
    public static func pseudonym(_ text: String, key: [UInt8]) -> String {
        "ps_" + Secrets.base64URL(Secrets.hmacSHA256(key: key, message: Array(text.utf8)))
    }
}
