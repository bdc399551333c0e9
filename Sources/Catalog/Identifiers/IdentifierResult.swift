/// A value an identifier rule accepted: its normalized form, plus warnings that do not reject it.
public struct IdentifierValue: Sendable, Hashable {
    /// The canonical form (`11010519491231002X`, `13812345678`, `1985-03-12`).
    public var normalized: String
    public var warnings: [IdentifierWarning]

    public init(_ normalized: String, warnings: [IdentifierWarning] = []) {
        self.normalized = normalized
        self.warnings = warnings
    }
}

/// Either the accepted value or the reason it was rejected.
public typealias IdentifierResult = Result<IdentifierValue, IdentifierRejection>

/// Why a value was rejected. Descriptions name the rule only, never the value.
public enum IdentifierRejection: String, Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case empty
    case wrongLength = "wrong_length"
    case invalidCharacter = "invalid_character"
    case checkCharacterMismatch = "check_character_mismatch"
    case invalidBirthDate = "invalid_birth_date"
    case futureBirthDate = "future_birth_date"
    case unknownProvince = "unknown_province"
    /// A spreadsheet turned the number into `1.10105E+17` or zeroed the digits past the 15th.
    case excelDamaged = "excel_damaged"
    case invalidDate = "invalid_date"
    case unrecognizedFormat = "unrecognized_format"
    case invalidAreaCode = "invalid_area_code"
    case invalidTime = "invalid_time"
    /// A disability certificate whose category (1-7) or grade (1-4) digit is out of range.
    case invalidCategoryOrGrade = "invalid_category_or_grade"

    /// The stable rule name used in issues and reports (`excel_damaged`).
    public var code: String { rawValue }

    public var description: String {
        switch self {
        case .empty: "value is empty"
        case .wrongLength: "wrong number of characters"
        case .invalidCharacter: "contains characters the format does not allow"
        case .checkCharacterMismatch: "check character does not match"
        case .invalidBirthDate: "birth date inside the number is not a real date"
        case .futureBirthDate: "birth date inside the number is in the future"
        case .unknownProvince: "first two digits are not a known province code"
        case .excelDamaged: "damaged by a spreadsheet (scientific notation or digits past the 15th turned to 0); fix the source, it cannot be repaired"
        case .invalidDate: "not a real calendar date"
        case .unrecognizedFormat: "not in a recognized format"
        case .invalidAreaCode: "landline area code is missing or malformed"
        case .invalidTime: "not a valid time of day"
        case .invalidCategoryOrGrade: "disability category or grade digit out of range"
        }
    }
}

/// Something about an accepted value that a person may need to look at.
public enum IdentifierWarning: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A 15-digit citizen ID was upgraded to 18 digits.
    case upgradedFromLegacy15 = "upgraded_from_15_digits"
    /// A 15-digit citizen ID with sequence 996-999: once used for people born in the 1800s, so the
    /// "19" century inserted by the upgrade may be wrong. Route to review.
    case centuryNeedsReview = "century_needs_review"
    /// A unified social credit code whose check character fails (some genuine pilot codes do).
    case checkCharacterMismatch = "check_character_mismatch"
    /// A two-digit year (YYMMDD) whose century was inferred (see ``DateParser``).
    case centuryInferred = "century_inferred"
    /// The date came from an Excel serial number.
    case excelSerial = "excel_serial"

    public var code: String { rawValue }

    public var description: String {
        switch self {
        case .upgradedFromLegacy15: "15-digit number upgraded to 18 digits"
        case .centuryNeedsReview: "15-digit number with sequence 996-999: century needs review"
        case .checkCharacterMismatch: "check character does not match (kept: some genuine early codes fail it)"
        case .centuryInferred: "two-digit year: century inferred"
        case .excelSerial: "date read from an Excel serial number"
        }
    }
}
