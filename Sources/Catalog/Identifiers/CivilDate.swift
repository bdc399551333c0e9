import Foundation

/// A calendar date without a time zone (proleptic Gregorian), canonical text `YYYY-MM-DD`.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// A date; nil when it is not a real calendar date (Feb 30, month 13) or the year is outside 1..9999.
    public init?(year: Int, month: Int, day: Int) {
        guard year >= 1, year <= 9999, month >= 1, month <= 12, day >= 1,
              day <= CivilDate.daysInMonth(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Today in China Standard Time (UTC+8), the time zone of the department data.
    public static func today() -> CivilDate {
        let seconds = Int(Date().timeIntervalSince1970) + 8 * 3600
        return CivilDate(daysSinceEpoch: Int((Double(seconds) / 86400).rounded(.down)))
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `YYYY-MM-DD` (10 bytes: a small string, no heap allocation).
    public var description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { out in
            write(into: out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Writes `YYYY-MM-DD` into the first 10 bytes of `out`.
    func write(into out: UnsafeMutableBufferPointer<UInt8>) {
        Self.writeDigits(year, count: 4, into: out, at: 0)
        out[4] = UInt8(ascii: "-")
        Self.writeDigits(month, count: 2, into: out, at: 5)
        out[7] = UInt8(ascii: "-")
        Self.writeDigits(day, count: 2, into: out, at: 8)
    }

    static func writeDigits(_ value: Int, count: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var v = value
        for k in stride(from: start + count - 1, through: start, by: -1) {
            out[k] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
        }
    }
}
