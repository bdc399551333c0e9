/// Dates and date-times in every shape department data uses, normalized byte by byte.
///
/// Dates: `19850312`, `1985-03-12`, `1985/3/12`, `1985.3.12`, `1985年3月12日`, `850312` (YYMMDD),
/// Excel serials (`31118`, 1900 date system), ISO date-times (the date part is taken), and
/// `19850312103000` (YYYYMMDDHHMMSS). Full-width digits are folded first.
///
/// Century rule for YYMMDD: a two-digit year not after the current year's two digits is in this
/// century, otherwise in the previous one (in 2026: `260101` -> 2026, `270101` -> 1927); such
/// dates carry the ``IdentifierWarning/centuryInferred`` warning.
///
/// Excel serials (1 to 5 digits, optionally with a fraction for the time of day): serial > 60 is
/// 1899-12-30 + serial days; 1-59 is 1899-12-31 + serial days; 60 is Excel's non-existent
/// 1900-02-29 and is rejected.
public enum DateParser {
    /// The date in canonical `YYYY-MM-DD` form.
    public static func normalizeDate(_ text: String, today: CivilDate = .today()) -> IdentifierResult {
        switch parse(text, today: today) {
        case .success(let parsed): .success(IdentifierValue(parsed.date.description, warnings: parsed.warnings))
        case .failure(let reason): .failure(reason)
        }
    }

    /// The date-time in canonical `YYYY-MM-DDTHH:MM:SS±HH:MM` form. A value without a time zone is
    /// taken as China Standard Time (`+08:00`); a date alone is midnight. Fractions of a second are dropped.
    public static func normalizeDateTime(_ text: String, today: CivilDate = .today()) -> IdentifierResult {
        switch parse(text, today: today) {
        case .failure(let reason):
            return .failure(reason)
        case .success(let parsed):
            var out = Array(parsed.date.description.utf8)
            out.append(UInt8(ascii: "T"))
            var time = [UInt8](repeating: UInt8(ascii: ":"), count: 8)
            CivilDate.writeDigits(parsed.hour, count: 2, into: &time, at: 0)
            CivilDate.writeDigits(parsed.minute, count: 2, into: &time, at: 3)
            CivilDate.writeDigits(parsed.second, count: 2, into: &time, at: 6)
            out.append(contentsOf: time)
            let offset = parsed.offsetMinutes ?? 480
            out.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            var zone = [UInt8](repeating: UInt8(ascii: ":"), count: 5)
            CivilDate.writeDigits(abs(offset) / 60, count: 2, into: &zone, at: 0)
            CivilDate.writeDigits(abs(offset) % 60, count: 2, into: &zone, at: 3)
            out.append(contentsOf: zone)
            return .success(IdentifierValue(String(decoding: out, as: UTF8.self), warnings: parsed.warnings))
        }
    }

    /// A parsed date with an optional time of day and zone offset.
    public struct Parsed: Sendable, Hashable {
        public var date: CivilDate
        public var hour = 0
        public var minute = 0
        public var second = 0
        /// Minutes east of UTC when the text gave a zone (`Z` = 0).
        public var offsetMinutes: Int?
        public var warnings: [IdentifierWarning] = []
    }

    /// Parses a date or date-time in any supported shape.
    public static func parse(_ text: String, today: CivilDate = .today()) -> Result<Parsed, IdentifierRejection> {
        var year = 0, month = 0, day = 0
        var parsed: Parsed
        var rest: ArraySlice<UInt8>
        // Chinese 年月日 form first: it is not ASCII.
        if text.utf8.contains(0xE5) || text.utf8.contains(0xE6) {
            return parseChinese(text)
        }
        let folding = ASCIIFolding(text)
        let b = folding.bytes
        if b.isEmpty { return .failure(folding.hadForeignCharacter ? .invalidCharacter : .empty) }
        if folding.hadForeignCharacter { return .failure(.invalidCharacter) }
        let leadingDigits = b.prefix(while: ASCIIFolding.isDigit).count
        if leadingDigits == b.count || (leadingDigits <= 5 && leadingDigits > 0 && b[leadingDigits] == UInt8(ascii: ".")
            && b[(leadingDigits + 1)...].allSatisfy(ASCIIFolding.isDigit) && b.count > leadingDigits + 1)
        {
            let value = digits(b[0..<leadingDigits])
            switch leadingDigits {
            case 8, 14:
                guard leadingDigits == b.count else { return .failure(.unrecognizedFormat) }
                year = digits(b[0..<4]); month = digits(b[4..<6]); day = digits(b[6..<8])
                guard let date = CivilDate(year: year, month: month, day: day) else { return .failure(.invalidDate) }
                parsed = Parsed(date: date)
                if leadingDigits == 14 {
                    parsed.hour = digits(b[8..<10]); parsed.minute = digits(b[10..<12]); parsed.second = digits(b[12..<14])
                    guard parsed.hour < 24, parsed.minute < 60, parsed.second < 60 else { return .failure(.invalidTime) }
                }
                return .success(parsed)
            case 6:
                guard leadingDigits == b.count else { return .failure(.unrecognizedFormat) }
                let yy = digits(b[0..<2])
                let currentCentury = today.year / 100 * 100
                year = yy <= today.year % 100 ? currentCentury + yy : currentCentury - 100 + yy
                guard let date = CivilDate(year: year, month: digits(b[2..<4]), day: digits(b[4..<6])) else {
                    return .failure(.invalidDate)
                }
                return .success(Parsed(date: date, warnings: [.centuryInferred]))
            case 1...5:
                return excelSerial(value)
            default:
                return .failure(.unrecognizedFormat)
            }
        }
        // YYYY sep M sep D, sep one of - / . used twice.
        guard leadingDigits == 4, b.count > 5 else { return .failure(.unrecognizedFormat) }
        let separator = b[4]
        guard separator == UInt8(ascii: "-") || separator == UInt8(ascii: "/") || separator == UInt8(ascii: ".") else {
            return .failure(.unrecognizedFormat)
        }
        year = digits(b[0..<4])
        var i = 5
        guard let m = readNumber(b, &i, maxDigits: 2), i < b.count, b[i] == separator else { return .failure(.unrecognizedFormat) }
        i += 1
        guard let d = readNumber(b, &i, maxDigits: 2) else { return .failure(.unrecognizedFormat) }
        month = m; day = d
        guard let date = CivilDate(year: year, month: month, day: day) else { return .failure(.invalidDate) }
        parsed = Parsed(date: date)
        rest = b[i...]
        if rest.isEmpty { return .success(parsed) }
        guard rest.first == UInt8(ascii: "T") || rest.first == UInt8(ascii: " ") else { return .failure(.unrecognizedFormat) }
        return parseTime(rest.dropFirst(), into: parsed)
    }

    /// `1985年3月12日` (the 日 may be missing; a time may follow).
    static func parseChinese(_ text: String) -> Result<Parsed, IdentifierRejection> {
        let folding = ASCIIFoldingForChinese(text)
        guard let b = folding else { return .failure(.unrecognizedFormat) }
        // After replacing 年 月 with '-' and dropping 日: YYYY-M-D[ time].
        var i = 0
        guard let y = readNumber(b, &i, maxDigits: 4), i == 4, i < b.count, b[i] == UInt8(ascii: "-") else {
            return .failure(.unrecognizedFormat)
        }
        i += 1
        guard let m = readNumber(b, &i, maxDigits: 2), i < b.count, b[i] == UInt8(ascii: "-") else { return .failure(.unrecognizedFormat) }
        i += 1
        guard let d = readNumber(b, &i, maxDigits: 2) else { return .failure(.unrecognizedFormat) }
        guard let date = CivilDate(year: y, month: m, day: d) else { return .failure(.invalidDate) }
        let parsed = Parsed(date: date)
        if i == b.count { return .success(parsed) }
        guard b[i] == UInt8(ascii: " ") else { return .failure(.unrecognizedFormat) }
        return parseTime(b[(i + 1)...], into: parsed)
    }

    /// Folds full-width characters and maps 年 -> '-', 月 -> '-', drops 日; nil on other non-ASCII text.
    static func ASCIIFoldingForChinese(_ text: String) -> [UInt8]? {
        var ascii = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "年", "月": ascii.unicodeScalars.append("-")
            case "日", "号": ascii.unicodeScalars.append(" ")
            default: ascii.unicodeScalars.append(scalar)
            }
        }
        let folding = ASCIIFolding(ascii)
        guard !folding.hadForeignCharacter else { return nil }
        // "日 10:20" became "  10:20": collapse double blanks.
        var out: [UInt8] = []
        for b in folding.bytes where !(b == 0x20 && out.last == 0x20) { out.append(b) }
        return out
    }

    /// `HH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]` after the date.
    static func parseTime(_ t: ArraySlice<UInt8>, into parsed: Parsed) -> Result<Parsed, IdentifierRejection> {
        var parsed = parsed
        let b = Array(t)
        var i = 0
        guard let h = readNumber(b, &i, maxDigits: 2), i < b.count, b[i] == UInt8(ascii: ":") else { return .failure(.invalidTime) }
        i += 1
        guard let m = readNumber(b, &i, maxDigits: 2) else { return .failure(.invalidTime) }
        var s = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            guard let sec = readNumber(b, &i, maxDigits: 2) else { return .failure(.invalidTime) }
            s = sec
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                let start = i
                while i < b.count, ASCIIFolding.isDigit(b[i]) { i += 1 }
                guard i > start else { return .failure(.invalidTime) }
            }
        }
        guard h < 24, m < 60, s < 60 else { return .failure(.invalidTime) }
        parsed.hour = h; parsed.minute = m; parsed.second = s
        if i == b.count { return .success(parsed) }
        if b[i] == UInt8(ascii: "Z"), i + 1 == b.count {
            parsed.offsetMinutes = 0
            return .success(parsed)
        }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return .failure(.invalidTime) }
        let negative = b[i] == UInt8(ascii: "-")
        i += 1
        let zone = b[i...].filter { $0 != UInt8(ascii: ":") }
        guard zone.count == 4, zone.allSatisfy(ASCIIFolding.isDigit) else { return .failure(.invalidTime) }
        let zh = digits(zone[zone.startIndex..<(zone.startIndex + 2)])
        let zm = digits(zone[(zone.startIndex + 2)...])
        guard zh <= 14, zm < 60 else { return .failure(.invalidTime) }
        parsed.offsetMinutes = (negative ? -1 : 1) * (zh * 60 + zm)
        return .success(parsed)
    }

    /// Excel's 1900 date system.
    static func excelSerial(_ serial: Int) -> Result<Parsed, IdentifierRejection> {
        guard serial >= 1, serial != 60 else { return .failure(.invalidDate) }
        let base = CivilDate(year: serial > 60 ? 1899 : 1899, month: 12, day: serial > 60 ? 30 : 31)!
        return .success(Parsed(date: CivilDate(daysSinceEpoch: base.daysSinceEpoch + serial), warnings: [.excelSerial]))
    }

    static func readNumber(_ b: [UInt8], _ i: inout Int, maxDigits: Int) -> Int? {
        let start = i
        var v = 0
        while i < b.count, ASCIIFolding.isDigit(b[i]), i - start < maxDigits {
            v = v * 10 + Int(b[i] &- 0x30)
            i += 1
        }
        return i > start ? v : nil
    }

    static func digits(_ b: ArraySlice<UInt8>) -> Int {
        var v = 0
        for x in b { v = v * 10 + Int(x &- 0x30) }
        return v
    }
}
