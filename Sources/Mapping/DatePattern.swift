/// An explicit date format from a mapping (`yyyyMMdd`, `yyyy年M月d日`, `dd.MM.yyyy`, `yyMMdd`),
/// parsed by hand on UTF-8: no DateFormatter on the per-record path.
struct DatePattern: Sendable {
    enum Token: Sendable, Equatable {
        case year4, year2, month2, month, day2, day, hour2, minute2, second2
        case literal([UInt8])
    }
    let tokens: [Token]

    static let letters: [(String, Token)] = [
        ("yyyy", .year4), ("yy", .year2), ("MM", .month2), ("M", .month), ("dd", .day2), ("d", .day),
        ("HH", .hour2), ("mm", .minute2), ("ss", .second2),
    ]

    init(_ format: String) {
        var tokens: [Token] = []
        var rest = Substring(format)
        outer: while !rest.isEmpty {
            for (text, token) in Self.letters where rest.hasPrefix(text) {
                tokens.append(token)
                rest = rest.dropFirst(text.count)
                continue outer
            }
            let c = rest.removeFirst()
            if case .literal(let bytes) = tokens.last {
                tokens[tokens.count - 1] = .literal(bytes + Array(String(c).utf8))
            } else {
                tokens.append(.literal(Array(String(c).utf8)))
            }
        }
        self.tokens = tokens
    }

    /// A format is usable when it has a year, a month and a day.
    static func isValid(_ format: String) -> Bool {
        let t = DatePattern(format).tokens
        return (t.contains(.year4) || t.contains(.year2)) && (t.contains(.month2) || t.contains(.month)) && (t.contains(.day2) || t.contains(.day))
    }

    /// `YYYY-MM-DD` when the text matches this format and is a real date.
    func parse(_ text: String, currentYear: Int) -> String? {
        var year = -1, month = -1, day = -1
        var utf8 = Array(text.utf8)[...]
        func digits(_ minCount: Int, _ maxCount: Int) -> Int? {
            var n = 0, count = 0
            while count < maxCount, let b = utf8.first, b &- 0x30 < 10 {
                n = n * 10 + Int(b - 0x30)
                utf8 = utf8.dropFirst()
                count += 1
            }
            return count >= minCount ? n : nil
        }
        for token in tokens {
            switch token {
            case .year4: guard let v = digits(4, 4) else { return nil }; year = v
            case .year2:
                guard let v = digits(2, 2) else { return nil }
                year = v + 2000 > currentYear ? 1900 + v : 2000 + v
            case .month2: guard let v = digits(2, 2) else { return nil }; month = v
            case .month: guard let v = digits(1, 2) else { return nil }; month = v
            case .day2: guard let v = digits(2, 2) else { return nil }; day = v
            case .day: guard let v = digits(1, 2) else { return nil }; day = v
            case .hour2, .minute2, .second2: guard digits(2, 2) != nil else { return nil }
            case .literal(let bytes):
                guard utf8.starts(with: bytes) else { return nil }
                utf8 = utf8.dropFirst(bytes.count)
            }
        }
        guard utf8.isEmpty, DateMath.isValid(year: year, month: month, day: day) else { return nil }
        return DateMath.format(year: year, month: month, day: day)
    }
}

/// Calendar arithmetic for canonical dates.
enum DateMath {
    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
        let days = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }

    /// `YYYY-MM-DD`, written straight into the string's storage.
    static func format(year: Int, month: Int, day: Int) -> String {
        String(unsafeUninitializedCapacity: 10) { b in
            b[0] = UInt8(0x30 + year / 1000 % 10); b[1] = UInt8(0x30 + year / 100 % 10)
            b[2] = UInt8(0x30 + year / 10 % 10); b[3] = UInt8(0x30 + year % 10)
            b[4] = 0x2D
            b[5] = UInt8(0x30 + month / 10 % 10); b[6] = UInt8(0x30 + month % 10)
            b[7] = 0x2D
            b[8] = UInt8(0x30 + day / 10 % 10); b[9] = UInt8(0x30 + day % 10)
            return 10
        }
    }

    /// Checks that text is already canonical `YYYY-MM-DD` and a real date.
    static func isCanonical(_ text: String) -> Bool {
        guard text.utf8.count == 10 else { return false }
        return text.utf8.withContiguousStorageIfAvailable { b -> Bool in
            guard b[4] == 0x2D, b[7] == 0x2D else { return false }
            func n(_ r: Range<Int>) -> Int? {
                var v = 0
                for i in r { guard b[i] &- 0x30 < 10 else { return nil }; v = v * 10 + Int(b[i] - 0x30) }
                return v
            }
            guard let y = n(0..<4), let m = n(5..<7), let d = n(8..<10) else { return false }
            return isValid(year: y, month: m, day: d)
        } ?? false
    }
}
