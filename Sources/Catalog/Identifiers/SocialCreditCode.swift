/// The unified social credit code, GB 32100-2015: the Organization identity key.
public enum SocialCreditCode {
    /// The 31 characters in value order (no I, O, Z, S, V).
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY".utf8)
    static let weights: [Int] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    /// Byte -> value (0...30), 255 for characters outside the alphabet.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (value, char) in alphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()

    /// Folds width and case, checks length and alphabet; a failed check character is a warning
    /// (``IdentifierWarning/checkCharacterMismatch``), not a rejection.
    public static func normalize(_ text: String) -> IdentifierResult {
        ASCIIFolding.withFolded(text) { outcome, buffer in
            guard case .folded(let count) = outcome else { return .failure(outcome == .empty ? .empty : .invalidCharacter) }
            let b = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            for k in b.indices where b[k] >= UInt8(ascii: "a") && b[k] <= UInt8(ascii: "z") { b[k] -= 0x20 }
            for byte in b where values[Int(byte)] == 255 { return .failure(.invalidCharacter) }
            guard b.count == 18 else { return .failure(.wrongLength) }
            let warnings: [IdentifierWarning] = checkCharacter(UnsafeBufferPointer(b)) == b[17] ? [] : [.checkCharacterMismatch]
            return .success(IdentifierValue(String(decoding: b, as: UTF8.self), warnings: warnings))
        }
    }

    /// C18 = 31 - (sum mod 31), where 31 becomes 0.
    static func checkCharacter(_ b: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var sum = 0
        for k in 0..<17 { sum += Int(values[Int(b[k])]) * weights[k] }
        let c = 31 - sum % 31
        return alphabet[c == 31 ? 0 : c]
    }

    /// The check character for the first 17 characters (nil when they are not 17 alphabet characters).
    public static func checkCharacter(for first17: String) -> Character? {
        let b = Array(first17.utf8)
        guard b.count == 17, b.allSatisfy({ values[Int($0)] != 255 }) else { return nil }
        return b.withUnsafeBufferPointer { Character(Unicode.Scalar(checkCharacter($0))) }
    }
}
