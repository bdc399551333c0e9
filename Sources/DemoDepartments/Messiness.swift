import Catalog

/// How often each kind of real-world messiness appears in the departments' records. The
/// defaults are low, realistic rates; `.none` gives clean records (every one accepted).
///
/// Only `excelDamagedID` makes records that the mappings must reject; everything else is
/// folded, crosswalked or parsed by the mappings (some with a warning, e.g. 15-digit IDs and
/// Excel serial dates), and `healthNameVariant` makes departments disagree so conflicts open.
public struct Messiness: Sendable, Equatable {
    /// IDs written with full-width digits (５１０１０８...), per record.
    public var fullWidthID = 0.003
    /// IDs ending in X written with a lowercase x, share of those IDs.
    public var lowercaseX = 0.2
    /// Police rows of persons born before 1966 that still carry the 15-digit legacy ID.
    public var legacyID15 = 0.08
    /// IDs damaged by a spreadsheet (`5.10108E+17`, or the last three digits zeroed): rejected.
    public var excelDamagedID = 0.001
    /// Dates in another shape than the system's usual one (dashes, slashes, 年月日, YYMMDD).
    public var otherDateFormat = 0.06
    /// Dates stored as Excel serial numbers (1900 date system).
    public var excelSerialDate = 0.005
    /// Sex written as 男/女 instead of the code.
    public var sexAsLabel = 0.03
    /// Codes whose leading zero a spreadsheet stripped (ethnic group 01 -> 1).
    public var strippedLeadingZero = 0.02
    /// Names with an ideographic space (U+3000) or padding spaces.
    public var spacedName = 0.002
    /// Health records holding a variant of the person's name (a conflict with the police register).
    public var healthNameVariant = 0.005
    /// Labels instead of codes (户别 家庭户 vs 1, contribution status 正常缴费 vs 1).
    public var labelInsteadOfCode = 0.05
    /// Numbers written with units or separators (２人, 860元, "1,230.50").
    public var decoratedNumber = 0.1

    public init() {}

    /// The realistic default rates.
    public static let realistic = Messiness()

    /// No messiness at all: clean records in each system's usual shapes.
    public static let none: Messiness = {
        var m = Messiness()
        m.fullWidthID = 0; m.lowercaseX = 0; m.legacyID15 = 0; m.excelDamagedID = 0; m.otherDateFormat = 0
        m.excelSerialDate = 0; m.sexAsLabel = 0; m.strippedLeadingZero = 0; m.spacedName = 0; m.healthNameVariant = 0
        m.labelInsteadOfCode = 0; m.decoratedNumber = 0
        return m
    }()
}

/// How a system usually writes dates.
enum DateStyle { case compact, dashed, slashed, chinese, yymmdd, excel }

/// Writes values the messy ways departments do.
enum MessyText {
    static func date(_ day: CalendarDay, _ style: DateStyle) -> String {
        let (y, m, d) = day.components
        let mm = m < 10 ? "0\(m)" : "\(m)", dd = d < 10 ? "0\(d)" : "\(d)"
        switch style {
        case .compact: return "\(y)\(mm)\(dd)"
        case .dashed: return "\(y)-\(mm)-\(dd)"
        case .slashed: return "\(y)/\(m)/\(d)"
        case .chinese: return "\(y)年\(m)月\(d)日"
        case .yymmdd: return (y % 100 < 10 ? "0\(y % 100)" : "\(y % 100)") + mm + dd
        case .excel: return String(day.excelSerial)
        }
    }

    /// The system's `usual` style, or now and then another one (YYMMDD only for 1950-1999,
    /// where the century cannot be misread; Excel serials only after 1900-03-01).
    static func date(_ day: CalendarDay, usual: DateStyle, rng: inout DistrictRandom, _ messiness: Messiness) -> String {
        if rng.chance(messiness.excelSerialDate), day.year > 1900 { return date(day, .excel) }
        if rng.chance(messiness.otherDateFormat) {
            var styles: [DateStyle] = [.dashed, .slashed, .chinese, .compact]
            if (1950...1999).contains(day.year) { styles.append(.yymmdd) }
            return date(day, rng.pick(styles))
        }
        return date(day, usual)
    }

    /// An ID as a clerk or a spreadsheet left it.
    static func citizenID(_ id: String, rng: inout DistrictRandom, _ messiness: Messiness, legacyAllowed: Bool = false) -> String {
        if rng.chance(messiness.excelDamagedID) {
            // The zeroed tail must not happen to be a valid ID of its own (check character 0).
            let zeroed = String(id.prefix(15)) + "00"
            if id.hasSuffix("000") || CitizenID.checkCharacter(for: zeroed) == "0" || rng.chance(0.5) {
                let digits = Array(id)
                return "\(digits[0]).\(String(digits[1...5]))E+17"
            }
            return String(id.prefix(15)) + "000"
        }
        var text = id
        if legacyAllowed, rng.chance(messiness.legacyID15) {
            text = String(id.prefix(6)) + String(id.dropFirst(8).prefix(9))
        }
        if text.hasSuffix("X"), rng.chance(messiness.lowercaseX) { text = String(text.dropLast()) + "x" }
        if rng.chance(messiness.fullWidthID) { text = fullWidth(text) }
        return text
    }

    /// Digits and Latin letters as their full-width forms (U+FF10...).
    static func fullWidth(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x21 && scalar.value <= 0x7E { out.append(Unicode.Scalar(scalar.value + 0xFEE0)!) } else { out.append(scalar) }
        }
        return String(out)
    }

    /// A name with an ideographic space inside or ASCII spaces around it, now and then.
    static func name(_ name: String, rng: inout DistrictRandom, _ messiness: Messiness) -> String {
        guard rng.chance(messiness.spacedName) else { return name }
        if rng.chance(0.5), name.count >= 2 {
            return String(name.prefix(1)) + "\u{3000}" + String(name.dropFirst())
        }
        return " " + name + " "
    }

    static func sex(_ code: String, rng: inout DistrictRandom, _ messiness: Messiness) -> String {
        rng.chance(messiness.sexAsLabel) ? (code == "1" ? "男" : "女") : code
    }

    static func mobile(_ mobile: String, rng: inout DistrictRandom) -> String {
        guard !mobile.isEmpty, rng.chance(0.03) else { return mobile }
        let d = Array(mobile)
        return rng.chance(0.5) ? "+86 \(String(d[0..<3]))-\(String(d[3..<7]))-\(String(d[7..<11]))"
                               : "\(String(d[0..<3])) \(String(d[3..<7])) \(String(d[7..<11]))"
    }
}
