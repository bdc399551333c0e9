/// The identifier rules a catalog field can name; each normalizes a value or rejects it with a reason.
public enum IdentifierRule: String, Sendable, Hashable, CaseIterable {
    /// Citizen identity number, GB 11643-1999 (18 characters, 15-digit numbers upgraded).
    case citizenID = "citizen_id"
    /// Unified social credit code, GB 32100-2015.
    case uscc
    /// Mainland mobile number, 11 digits.
    case mobile
    /// Landline number with area code.
    case landline
    /// A mobile or a landline number.
    case phone
    /// Disability certificate number: citizen ID + category + grade (20 characters).
    case disabilityCertificate = "disability_certificate"

    /// Normalizes `text` according to the rule.
    public func normalize(_ text: String, today: CivilDate = .today()) -> IdentifierResult {
        switch self {
        case .citizenID: CitizenID.normalize(text, today: today)
        case .uscc: SocialCreditCode.normalize(text)
        case .mobile: PhoneNumber.normalizeMobile(text)
        case .landline: PhoneNumber.normalizeLandline(text)
        case .phone: PhoneNumber.normalize(text)
        case .disabilityCertificate: DisabilityCertificate.normalize(text, today: today)
        }
    }
}
