/// The citizen identity number, GB 11643-1999: the Person identity key.
///
/// 6-digit address code, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check character.
public enum CitizenID {
    static let weights: [Int] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [UInt8] = Array("10X98765432".utf8)

    /// Province codes (first two digits) of GB/T 2260, plus 81/82/83 used on residence permits of
    /// Hong Kong, Macao and Taiwan residents. The codes table `province` holds the same list
    /// (a catalog test keeps them equal).
    public static let provinceCodes: Set<Int> = Set(provinceTable.indices.filter { provinceTable[$0] })

    /// Index = two-digit province code.
    static let provinceTable: [Bool] = {
        var table = [Bool](repeating: false, count: 100)
        for code in [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83] { table[code] = true }
        return table
    }()

    /// Normalizes a citizen ID as departments send it: folds full-width digits and `Ｘ`, uppercases
    /// `x`, upgrades 15-digit numbers, and checks the check character, birth date and province.
    ///
    /// Excel damage (`1.10105E+17`, or an 18-digit value whose tail was zeroed) is rejected with
    /// ``IdentifierRejection/excelDamaged``, never repaired.
    public static func normalize(_ text: String, today: CivilDate = .today()) -> IdentifierResult {
        ASCIIFolding.withFolded(text) { outcome, buffer in
            switch outcome {
            case .empty: return .failure(.empty)
            case .foreign: return .failure(.invalidCharacter)
            case .folded(let count): return normalizeFolded(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]), today: today)
            }
        }
    }

    static func normalizeFolded(_ b: UnsafeMutableBufferPointer<UInt8>, today: CivilDate) -> IdentifierResult {
        if looksLikeScientificNotation(UnsafeBufferPointer(b)) { return .failure(.excelDamaged) }
        // A spreadsheet may append ".0" to a number it stored as a float: that too is damage.
        if b.count > 2, b[b.count - 2] == UInt8(ascii: "."), b[b.count - 1] == UInt8(ascii: "0") { return .failure(.excelDamaged) }
        if b[b.count - 1] == UInt8(ascii: "x") { b[b.count - 1] = UInt8(ascii: "X") }

        switch b.count {
        case 18:
            for k in 0..<17 where !ASCIIFolding.isDigit(b[k]) { return .failure(.invalidCharacter) }
            guard ASCIIFolding.isDigit(b[17]) || b[17] == UInt8(ascii: "X") else { return .failure(.invalidCharacter) }
            if checkCharacter(UnsafeBufferPointer(b)) != b[17] {
                // Excel keeps 15 significant digits: digits 16-18 become 000 and the check fails.
                if b[15] == 0x30, b[16] == 0x30, b[17] == 0x30 { return .failure(.excelDamaged) }
                return .failure(.checkCharacterMismatch)
            }
            if let rejection = checkProvinceAndBirthDate(UnsafeBufferPointer(b), today: today) { return .failure(rejection) }
            return .success(IdentifierValue(String(decoding: b, as: UTF8.self)))
        case 15:
            for k in 0..<15 where !ASCIIFolding.isDigit(b[k]) { return .failure(.invalidCharacter) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 18) { upgraded in
                for k in 0..<6 { upgraded[k] = b[k] }
                upgraded[6] = UInt8(ascii: "1")
                upgraded[7] = UInt8(ascii: "9")
                for k in 6..<15 { upgraded[k + 2] = b[k] }
                upgraded[17] = checkCharacter(UnsafeBufferPointer(upgraded))
                if let rejection = checkProvinceAndBirthDate(UnsafeBufferPointer(upgraded), today: today) { return .failure(rejection) }
                var warnings: [IdentifierWarning] = [.upgradedFromLegacy15]
                if digitsValue(UnsafeBufferPointer(b), 12, 15) >= 996 { warnings.append(.centuryNeedsReview) }
                return .success(IdentifierValue(String(decoding: upgraded, as: UTF8.self), warnings: warnings))
            }
        default:
            for byte in b where !(ASCIIFolding.isDigit(byte) || byte == UInt8(ascii: "X")) {
                return .failure(.invalidCharacter)
            }
            return .failure(.wrongLength)
        }
    }

    /// Whether `text` is a valid 18-character number already in canonical form.
    public static func isValid(_ text: String, today: CivilDate = .today()) -> Bool {
        if case .success(let v) = normalize(text, today: today) { return v.normalized == text && v.warnings.isEmpty }
        return false
    }

    /// The ISO 7064 MOD 11-2 check character of the first 17 digits.
    static func checkCharacter(_ b: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var sum = 0
        for k in 0..<17 { sum += Int(b[k] &- 0x30) * weights[k] }
        return checkCharacters[sum % 11]
    }

    /// The check character for 17 digits given as text (nil when they are not 17 digits).
    public static func checkCharacter(for first17: String) -> Character? {
        let b = Array(first17.utf8)
        guard b.count == 17, b.allSatisfy(ASCIIFolding.isDigit) else { return nil }
        return b.withUnsafeBufferPointer { Character(Unicode.Scalar(checkCharacter($0))) }
    }

    static func checkProvinceAndBirthDate(_ b: UnsafeBufferPointer<UInt8>, today: CivilDate) -> IdentifierRejection? {
        guard provinceTable[digitsValue(b, 0, 2)] else { return .unknownProvince }
        guard let birth = CivilDate(year: digitsValue(b, 6, 10), month: digitsValue(b, 10, 12), day: digitsValue(b, 12, 14)),
              birth.year >= 1800
        else { return .invalidBirthDate }
        if birth > today { return .futureBirthDate }
        return nil
    }

    static func digitsValue(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        var v = 0
        for k in from..<to { v = v * 10 + Int(b[k] &- 0x30) }
        return v
    }

    /// `1.10105E+17`, `1.10105194912310E17`, `110105194912310000E0`: a number a spreadsheet reformatted.
    static func looksLikeScientificNotation(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let e = b.firstIndex(where: { $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e") }), e > 0, e + 1 < b.count else {
            return false
        }
        var k = e + 1
        if b[k] == UInt8(ascii: "+") { k += 1 }
        guard k < b.count else { return false }
        for i in k..<b.count where !ASCIIFolding.isDigit(b[i]) { return false }
        var dots = 0
        for i in 0..<e {
            if b[i] == UInt8(ascii: ".") { dots += 1 } else if !ASCIIFolding.isDigit(b[i]) { return false }
        }
        return dots <= 1
    }
}
