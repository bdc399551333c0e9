import Foundation

/// Gives each change in one department system a unique, increasing stamp (milliseconds), so that
/// "changed since" and keyset cursors never tie. Stamps start at the reference day (the initial
/// records, one millisecond apart) and follow the wall clock once changes begin.
final class ChangeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last: Int64

    /// 2025-12-31T00:00:00+08:00, the district's reference day, in ms since 1970.
    static let origin: Int64 = Int64(SyntheticDistrict.referenceDay.dayNumber) * 86_400_000 - 8 * 3_600_000

    init() { last = Self.origin }

    /// The next stamp for an initial record (one millisecond after the previous).
    func nextInitial() -> Int64 { lock.withLock { last += 1; return last } }

    /// The next stamp for a change: now, or one millisecond after the previous if that is later.
    func next() -> Int64 {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return lock.withLock { last = max(now, last + 1); return last }
    }

    /// `2026-11-22T19:30:12.345+08:00` (China time, fixed width: sorts as text).
    static func iso(_ ms: Int64) -> String {
        let (day, time) = civil(ms)
        return "\(day)T\(time)+08:00"
    }

    /// `2026-11-22 19:30:12.345` (China time, fixed width), social security's AAE036 style.
    static func spaced(_ ms: Int64) -> String {
        let (day, time) = civil(ms)
        return "\(day) \(time)"
    }

    /// Today's date in China, for registrations made during the demo.
    static func today() -> CalendarDay {
        let ms = Int64(Date().timeIntervalSince1970 * 1000) + 8 * 3_600_000
        return CalendarDay(dayNumber: Int(ms / 86_400_000))
    }

    private static func civil(_ ms: Int64) -> (String, String) {
        let local = ms + 8 * 3_600_000
        let dayNumber = Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
        let inDay = Int(local - Int64(dayNumber) * 86_400_000)
        let (y, m, d) = CalendarDay(dayNumber: dayNumber).components
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        let millis = inDay % 1000
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : String(millis)
        return ("\(y)-\(two(m))-\(two(d))", "\(two(inDay / 3_600_000)):\(two(inDay / 60_000 % 60)):\(two(inDay / 1000 % 60)).\(fraction)")
    }
}
