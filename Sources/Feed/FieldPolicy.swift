import Catalog

/// How one field is disclosed to one subscriber.
public enum FieldPolicy: String, Sendable, Codable, CaseIterable {
    /// The value as stored.
    case plain
    /// Masked by the display conventions (standards.md): ID numbers first 6 + last 4, mobiles
    /// first 3 + last 4, names first character, addresses to street level, dates to the year.
    case masked
    /// Replaced by a keyed hash (HMAC-SHA256 under the subscription's own key): the subscriber can
    /// tell equal values apart within its own feed but cannot join with another subscriber's.
    case pseudonymized
    /// Not sent at all.
    case omitted

    /// The least-privilege default for a catalog field when the grant does not name it:
    /// public and internal fields plain; sensitive and special fields masked when the catalog
    /// gives a masking convention, omitted otherwise; fields that are not shared always omitted.
    public static func leastPrivilege(for field: Field) -> FieldPolicy {
        if field.sharing == .notShared { return .omitted }
        switch field.sensitivity {
        case .public, .internal: return .plain
        case .sensitive, .special:
            if let hint = field.masking, hint != .suppress { return .masked }
            return .omitted
        }
    }
}
