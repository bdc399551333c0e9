/// The disability certificate number (第二代残疾人证): the holder's 18-character citizen ID followed by
/// the disability category (1 visual ... 7 multiple) and grade (1-4, 1 most severe).
public enum DisabilityCertificate {
    /// Checks the citizen ID part like ``CitizenID`` (check character, birth date, province) and the
    /// category and grade digits.
    public static func normalize(_ text: String, today: CivilDate = .today()) -> IdentifierResult {
        ASCIIFolding.withFolded(text) { outcome, buffer in
            guard case .folded(let count) = outcome else { return .failure(outcome == .empty ? .empty : .invalidCharacter) }
            let b = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            for byte in b where !(ASCIIFolding.isDigit(byte) || byte | 0x20 == UInt8(ascii: "x")) {
                return .failure(.invalidCharacter)
            }
            guard count == 20 else { return .failure(.wrongLength) }
            guard b[18] >= UInt8(ascii: "1"), b[18] <= UInt8(ascii: "7"), b[19] >= UInt8(ascii: "1"), b[19] <= UInt8(ascii: "4") else {
                return .failure(.invalidCategoryOrGrade)
            }
            let id = UnsafeMutableBufferPointer(rebasing: b[0..<18])
            switch CitizenID.normalizeFolded(id, today: today) {
            case .failure(let reason): return .failure(reason)
            case .success(let value): return .success(IdentifierValue(value.normalized + String(decoding: b[18..<20], as: UTF8.self)))
            }
        }
    }
}
