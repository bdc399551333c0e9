import Foundation

/// Mainland China phone numbers: mobiles (11 digits) and landlines (area code + local number).
public enum PhoneNumber {
    /// `+86 138-1234-5678`, `0086 13812345678`, `138 1234 5678` -> `13812345678` (`^1[3-9]\d{9}$`).
    ///
    /// Carrier prefixes are not checked: numbers move between carriers.
    public static func normalizeMobile(_ text: String) -> IdentifierResult {
        ASCIIFolding.withFolded(text) { outcome, buffer in
            guard case .folded(let count) = outcome else { return .failure(outcome == .empty ? .empty : .invalidCharacter) }
            // Digits are compacted to the front of the same buffer.
            var n = 0
            for k in 0..<count {
                let b = buffer[k]
                if ASCIIFolding.isDigit(b) { buffer[n] = b; n += 1; continue }
                if isSeparator(b) || (b == UInt8(ascii: "+") && n == 0) { continue }
                return .failure(.invalidCharacter)
            }
            var start = 0
            if n == 15, buffer[0] == 0x30, buffer[1] == 0x30, buffer[2] == 0x38, buffer[3] == 0x36 { start = 4 }
            if n == 13, buffer[0] == 0x38, buffer[1] == 0x36 { start = 2 }
            guard n - start == 11 else { return .failure(.wrongLength) }
            guard buffer[start] == UInt8(ascii: "1"), buffer[start + 1] >= UInt8(ascii: "3") else { return .failure(.unrecognizedFormat) }
            return .success(IdentifierValue(String(decoding: UnsafeMutableBufferPointer(rebasing: buffer[start..<n]), as: UTF8.self)))
        }
    }

    /// `(028)8555-1234`, `028 85551234 转 123`, `+86 28 85551234` -> `028-85551234` (`-123` for an extension).
    ///
    /// Area codes: `010` and `020`-`029` have two digits after the 0, all others three. The local
    /// number has 7 or 8 digits and does not start with 0.
    public static func normalizeLandline(_ text: String) -> IdentifierResult {
        var main = text
        var extensionDigits: [UInt8] = []
        // "转" (transfer) and "分机" mark an extension; fold the rest.
        for marker in ["转", "分机"] where text.utf8.contains(where: { $0 >= 0x80 }) {
            if let range = main.range(of: marker) {
                let tail = ASCIIFolding(String(main[range.upperBound...]))
                guard !tail.hadForeignCharacter, !tail.bytes.isEmpty, tail.bytes.allSatisfy(ASCIIFolding.isDigit) else {
                    return .failure(.invalidCharacter)
                }
                extensionDigits = tail.bytes
                main = String(main[..<range.lowerBound])
                break
            }
        }
        let folding = ASCIIFolding(main)
        if folding.bytes.isEmpty { return folding.hadForeignCharacter ? .failure(.invalidCharacter) : .failure(.empty) }
        if folding.hadForeignCharacter { return .failure(.invalidCharacter) }
        var bytes = folding.bytes
        if extensionDigits.isEmpty, let mark = firstExtensionMark(bytes) {
            let tail = bytes[mark.tailStart...]
            guard !tail.isEmpty, tail.allSatisfy(ASCIIFolding.isDigit) else { return .failure(.invalidCharacter) }
            extensionDigits = Array(tail)
            bytes = Array(bytes[..<mark.markStart])
        }
        // Digit groups between separators; a leading + (international form) drops the 0 of the area code.
        var groups: [[UInt8]] = [[]]
        var international = false
        var groupDashes: [Bool] = []
        for b in bytes {
            if ASCIIFolding.isDigit(b) { groups[groups.count - 1].append(b); continue }
            if b == UInt8(ascii: "+"), allDigits(groups).isEmpty { international = true; continue }
            guard isSeparator(b) else { return .failure(.invalidCharacter) }
            if !groups[groups.count - 1].isEmpty {
                groups.append([])
                groupDashes.append(b == UInt8(ascii: "-"))
            }
        }
        if groups.last?.isEmpty == true { groups.removeLast() }
        var digits = groups.flatMap { $0 }
        if international || digits.starts(with: Array("0086".utf8)) || (digits.count >= 12 && digits.starts(with: Array("86".utf8)) && digits[2] != UInt8(ascii: "1")) {
            if digits.starts(with: Array("0086".utf8)) { digits.removeFirst(4) } else if digits.starts(with: Array("86".utf8)) { digits.removeFirst(2) }
            if digits.first != UInt8(ascii: "0") { digits.insert(UInt8(ascii: "0"), at: 0) }
        }
        guard digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] != UInt8(ascii: "0") else { return .failure(.invalidAreaCode) }
        let areaLength = digits[1] == UInt8(ascii: "1") || digits[1] == UInt8(ascii: "2") ? 3 : 4
        // An extension written as a third dash group: 028-85551234-123.
        if extensionDigits.isEmpty, groups.count >= 3, groupDashes.last == true {
            let lastCount = groups[groups.count - 1].count
            let localCount = digits.count - lastCount - areaLength
            if (localCount == 7 || localCount == 8) && lastCount <= 6 {
                extensionDigits = groups[groups.count - 1]
                digits.removeLast(lastCount)
            }
        }
        let localCount = digits.count - areaLength
        guard localCount == 7 || localCount == 8 else { return .failure(.wrongLength) }
        guard digits[areaLength] != UInt8(ascii: "0") else { return .failure(.unrecognizedFormat) }
        guard extensionDigits.count <= 6 else { return .failure(.wrongLength) }
        var out = Array(digits[..<areaLength])
        out.append(UInt8(ascii: "-"))
        out.append(contentsOf: digits[areaLength...])
        if !extensionDigits.isEmpty {
            out.append(UInt8(ascii: "-"))
            out.append(contentsOf: extensionDigits)
        }
        return .success(IdentifierValue(String(decoding: out, as: UTF8.self)))
    }

    /// A mobile when the value reads as one, else a landline.
    public static func normalize(_ text: String) -> IdentifierResult {
        let mobile = normalizeMobile(text)
        if case .success = mobile { return mobile }
        let landline = normalizeLandline(text)
        if case .success = landline { return landline }
        let firstDigit = text.utf8.first { ASCIIFolding.isDigit($0) }
        return firstDigit == UInt8(ascii: "0") ? landline : mobile
    }

    static func allDigits(_ groups: [[UInt8]]) -> [UInt8] { groups.flatMap { $0 } }

    @inline(__always)
    static func isSeparator(_ b: UInt8) -> Bool {
        b == 0x20 || b == UInt8(ascii: "-") || b == UInt8(ascii: "(") || b == UInt8(ascii: ")") || b == UInt8(ascii: ".")
    }

    /// `ext`, `x`, `#` followed by the extension digits.
    static func firstExtensionMark(_ b: [UInt8]) -> (markStart: Int, tailStart: Int)? {
        for k in b.indices {
            let lower = b[k] | 0x20
            if b[k] == UInt8(ascii: "#") { return (k, skipBlank(b, k + 1)) }
            if lower == UInt8(ascii: "x") { return (k, skipBlank(b, k + 1)) }
            if lower == UInt8(ascii: "e"), k + 2 < b.count, b[k + 1] | 0x20 == UInt8(ascii: "x"), b[k + 2] | 0x20 == UInt8(ascii: "t") {
                var tail = k + 3
                if tail < b.count, b[tail] == UInt8(ascii: ".") { tail += 1 }
                return (k, skipBlank(b, tail))
            }
        }
        return nil
    }

    static func skipBlank(_ b: [UInt8], _ i: Int) -> Int {
        var i = i
        while i < b.count, b[i] == 0x20 { i += 1 }
        return i
    }
}
