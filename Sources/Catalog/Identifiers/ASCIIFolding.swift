/// Byte-level folding of short identifier values into a fixed ASCII buffer.
///
/// Full-width digits and Latin letters (U+FF10-FF19, U+FF21-FF3A, U+FF41-FF5A) become ASCII;
/// leading and trailing blanks (ASCII, U+3000, U+00A0) are dropped; inner blanks are kept as
/// ASCII spaces. Any other non-ASCII character makes the fold fail.
struct ASCIIFolding {
    /// The folded bytes (at most `capacity`).
    var bytes: [UInt8] = []
    /// Some non-ASCII character other than a width form or blank was met.
    var hadForeignCharacter = false

    static let capacity = 64

    init(_ text: String) {
        bytes.reserveCapacity(24)
        var pendingBlanks = 0
        var iterator = text.utf8.makeIterator()
        while let b = iterator.next() {
            var folded: UInt8
            if b < 0x80 {
                folded = b
            } else if b == 0xEF {
                // U+FF01..U+FF5E are EF BC 81..EF BD 9E.
                guard let b1 = iterator.next(), let b2 = iterator.next() else { hadForeignCharacter = true; break }
                if b1 == 0xBC, b2 >= 0x81, b2 <= 0xBF {
                    folded = b2 - 0x81 + 0x21
                } else if b1 == 0xBD, b2 >= 0x80, b2 <= 0x9E {
                    folded = b2 - 0x80 + 0x60
                } else {
                    hadForeignCharacter = true
                    continue
                }
            } else if b == 0xE3 {
                guard let b1 = iterator.next(), let b2 = iterator.next() else { hadForeignCharacter = true; break }
                if b1 == 0x80, b2 == 0x80 { folded = 0x20 } else { hadForeignCharacter = true; continue }
            } else if b == 0xC2 {
                guard let b1 = iterator.next() else { hadForeignCharacter = true; break }
                if b1 == 0xA0 { folded = 0x20 } else { hadForeignCharacter = true; continue }
            } else {
                hadForeignCharacter = true
                if b >= 0xC0 {
                    let extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1
                    for _ in 0..<extra { _ = iterator.next() }
                }
                continue
            }
            if folded == 0x20 || folded == 0x09 || folded == 0x0A || folded == 0x0D {
                if !bytes.isEmpty { pendingBlanks += 1 }
                continue
            }
            if bytes.count + pendingBlanks + 1 > Self.capacity { hadForeignCharacter = true; break }
            while pendingBlanks > 0 { bytes.append(0x20); pendingBlanks -= 1 }
            bytes.append(folded)
        }
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
}

extension ASCIIFolding {
    /// What folding into a caller's buffer found.
    enum Outcome: Equatable {
        case folded(count: Int)
        case empty
        case foreign
    }

    /// Folds `text` like ``init(_:)`` into a stack buffer and runs `body` on it: no heap allocation.
    static func withFolded<R>(_ text: String, _ body: (Outcome, UnsafeMutableBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let outcome = fold(text, into: buffer)
            return body(outcome, buffer)
        }
    }

    static func fold(_ text: String, into out: UnsafeMutableBufferPointer<UInt8>) -> Outcome {
        var count = 0
        var pendingBlanks = 0
        var iterator = text.utf8.makeIterator()
        while let b = iterator.next() {
            var folded: UInt8
            if b < 0x80 {
                folded = b
            } else if b == 0xEF {
                guard let b1 = iterator.next(), let b2 = iterator.next() else { return .foreign }
                if b1 == 0xBC, b2 >= 0x81, b2 <= 0xBF {
                    folded = b2 - 0x81 + 0x21
                } else if b1 == 0xBD, b2 >= 0x80, b2 <= 0x9E {
                    folded = b2 - 0x80 + 0x60
                } else {
                    return .foreign
                }
            } else if b == 0xE3 {
                guard iterator.next() == 0x80, iterator.next() == 0x80 else { return .foreign }
                folded = 0x20
            } else if b == 0xC2 {
                guard iterator.next() == 0xA0 else { return .foreign }
                folded = 0x20
            } else {
                return .foreign
            }
            if folded == 0x20 || folded == 0x09 || folded == 0x0A || folded == 0x0D {
                if count > 0 { pendingBlanks += 1 }
                continue
            }
            if count + pendingBlanks + 1 > out.count { return .foreign }
            while pendingBlanks > 0 {
                out[count] = 0x20
                count += 1
                pendingBlanks -= 1
            }
            out[count] = folded
            count += 1
        }
        return count == 0 ? .empty : .folded(count: count)
    }
}
