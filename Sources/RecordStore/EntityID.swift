import Foundation

/// Entity ids: UUID version 7 (RFC 9562), a millisecond timestamp followed by random bits.
///
/// Ids made now sort after ids made earlier, so a bulk load appends to the right edge of the
/// entities primary key instead of touching a random index page per row (what random version 4
/// ids from gen_random_uuid() did). The hub makes them, not PostgreSQL, so that new entities can
/// be sent with COPY.
enum EntityID {
    static func make(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(milliseconds: UInt64(date.timeIntervalSince1970 * 1000), random: &generator)
    }

    static func make(milliseconds: UInt64, random: inout some RandomNumberGenerator) -> String {
        let high = random.next() as UInt64, low = random.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(i))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: high & 0x0F)            // version 7
        bytes[7] = UInt8(truncatingIfNeeded: high >> 8)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: (high >> 16) & 0x3F)   // RFC 9562 variant
        for i in 9..<16 { bytes[i] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i - 9))) }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
