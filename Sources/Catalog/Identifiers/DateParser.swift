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
            let offset = parsed.offsetMinutes ?? 480
            let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 25) { out in
                parsed.date.write(into: out)
                out[10] = UInt8(ascii: "T")
                CivilDate.writeDigits(parsed.hour, count: 2, into: out, at: 11)
                out[13] = UInt8(ascii: ":")
                CivilDate.writeDigits(parsed.minute, count: 2, into: out, at: 14)
                out[16] = UInt8(ascii: ":")
                CivilDate.writeDigits(parsed.second, count: 2, into: out, at: 17)
                out[19] = offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
                CivilDate.writeDigits(abs(offset) / 60, count: 2, into: out, at: 20)
                out[22] = UInt8(ascii: ":")
                CivilDate.writeDigits(abs(offset) % 60, count: 2, into: out, at: 23)
                return String(decoding: out, as: UTF8.self)
            }
            return .success(IdentifierValue(text, warnings: parsed.warnings))
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
        // The Chinese 年月日 form is not ASCII: map it to YYYY-M-D first.
        if text.utf8.contains(where: { $0 == 0xE5 || $0 == 0xE6 }) {
            guard let bytes = chineseAsASCII(text) else { return .failure(.unrecognizedFormat) }
            return bytes.withUnsafeBufferPointer { b in
                guard b.count > 4, b[4] == UInt8(ascii: "-") else { return .failure(.unrecognizedFormat) }
                return parseFolded(b, today: today)
            }
        }
        return ASCIIFolding.withFolded(text) { outcome, buffer in
            switch outcome {
            case .empty: return .failure(.empty)
            case .foreign: return .failure(.invalidCharacter)
            case .folded(let count): return parseFolded(UnsafeBufferPointer(rebasing: buffer[0..<count]), today: today)
            }
        }
    }

    static func parseFolded(_ b: UnsafeBufferPointer<UInt8>, today: CivilDate) -> Result<Parsed, IdentifierRejection> {
        var leadingDigits = 0
        while leadingDigits < b.count, ASCIIFolding.isDigit(b[leadingDigits]) { leadingDigits += 1 }
        if leadingDigits == b.count || isSerialWithFraction(b, leadingDigits) {
            switch leadingDigits {
            case 8, 14:
                guard leadingDigits == b.count else { return .failure(.unrecognizedFormat) }
                guard let date = CivilDate(year: digits(b, 0, 4), month: digits(b, 4, 6), day: digits(b, 6, 8)) else {
                    return .failure(.invalidDate)
                }
                var parsed = Parsed(date: date)
                if leadingDigits == 14 {
                    parsed.hour = digits(b, 8, 10)
                    parsed.minute = digits(b, 10, 12)
                    parsed.second = digits(b, 12, 14)
                    guard parsed.hour < 24, parsed.minute < 60, parsed.second < 60 else { return .failure(.invalidTime) }
                }
                return .success(parsed)
            case 6:
                guard leadingDigits == b.count else { return .failure(.unrecognizedFormat) }
                let yy = digits(b, 0, 2)
                let currentCentury = today.year / 100 * 100
                let year = yy <= today.year % 100 ? currentCentury + yy : currentCentury - 100 + yy
                guard let date = CivilDate(year: year, month: digits(b, 2, 4), day: digits(b, 4, 6)) else {
                    return .failure(.invalidDate)
                }
                return .success(Parsed(date: date, warnings: [.centuryInferred]))
            case 1...5:
                return excelSerial(digits(b, 0, leadingDigits))
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
        var i = 5
        guard let month = readNumber(b, &i, maxDigits: 2), i < b.count, b[i] == separator else { return .failure(.unrecognizedFormat) }
        i += 1
        guard let day = readNumber(b, &i, maxDigits: 2) else { return .failure(.unrecognizedFormat) }
        guard let date = CivilDate(year: digits(b, 0, 4), month: month, day: day) else { return .failure(.invalidDate) }
        let parsed = Parsed(date: date)
        if i == b.count { return .success(parsed) }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return .failure(.unrecognizedFormat) }
        return parseTime(UnsafeBufferPointer(rebasing: b[(i + 1)...]), into: parsed)
    }

    /// `31118.75`: an Excel serial with the time of day as a fraction.
    static func isSerialWithFraction(_ b: UnsafeBufferPointer<UInt8>, _ leadingDigits: Int) -> Bool {
        guard leadingDigits >= 1, leadingDigits <= 5, b.count > leadingDigits + 1, b[leadingDigits] == UInt8(ascii: ".") else {
            return false
        }
        for k in (leadingDigits + 1)..<b.count where !ASCIIFolding.isDigit(b[k]) { return false }
        return true
    }

    /// Folds full-width characters and maps 年 and 月 to '-', 日 and 号 to a blank; nil on other non-ASCII text.
    static func chineseAsASCII(_ text: String) -> [UInt8]? {
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
    static func parseTime(_ b: UnsafeBufferPointer<UInt8>, into parsed: Parsed) -> Result<Parsed, IdentifierRejection> {
        var parsed = parsed
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
        parsed.hour = h
        parsed.minute = m
        parsed.second = s
        if i == b.count { return .success(parsed) }
        if b[i] == UInt8(ascii: "Z"), i + 1 == b.count {
            parsed.offsetMinutes = 0
            return .success(parsed)
        }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return .failure(.invalidTime) }
        let negative = b[i] == UInt8(ascii: "-")
        i += 1
        var zone = 0
        var zoneDigits = 0
        while i < b.count {
            if ASCIIFolding.isDigit(b[i]) {
                zone = zone * 10 + Int(b[i] &- 0x30)
                zoneDigits += 1
            } else if !(b[i] == UInt8(ascii: ":") && zoneDigits == 2) {
                return .failure(.invalidTime)
            }
            i += 1
        }
        guard zoneDigits == 4, zone / 100 <= 14, zone % 100 < 60 else { return .failure(.invalidTime) }
        parsed.offsetMinutes = (negative ? -1 : 1) * (zone / 100 * 60 + zone % 100)
        return .success(parsed)
    }

    /// Excel's 1900 date system.
    static func excelSerial(_ serial: Int) -> Result<Parsed, IdentifierRejection> {
        guard serial >= 1, serial != 60 else { return .failure(.invalidDate) }
        let base = CivilDate(year: serial > 60 ? 1899 : 1899, month: 12, day: serial > 60 ? 30 : 31)!
        return .success(Parsed(date: CivilDate(daysSinceEpoch: base.daysSinceEpoch + serial), warnings: [.excelSerial]))
    }

    static func readNumber(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, maxDigits: Int) -> Int? {
        let start = i
        var v = 0
        while i < b.count, ASCIIFolding.isDigit(b[i]), i - start < maxDigits {
            v = v * 10 + Int(b[i] &- 0x30)
            i += 1
        }
        return i > start ? v : nil
    }

    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        var v = 0
        for k in from..<to { v = v * 10 + Int(b[k] &- 0x30) }
        return v
    }
}
