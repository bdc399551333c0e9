#if canImport(Glibc)
import Glibc
#endif
/// A lookup table keyed by the exact UTF-8 bytes of a string.
///
/// Swift's `String` hashing normalizes non-ASCII text to NFC before hashing, which costs more than
/// the rest of a crosswalk lookup for Chinese labels (户主, 男). Crosswalk keys and codes are
/// matched byte for byte (after the field's transforms), so an open-addressing table indexed by a
/// 64-bit FNV-1a hash of the bytes, then a byte comparison, is enough and several times faster.
final class ByteKeyedTable<Value: Sendable>: Sendable {
    private let keys: [[UInt8]]
    private let values: [Value]
    /// Slot -> entry index + 1 (0 = empty); the size is a power of two at least twice the entries.
    private let slots: [Int32]
    private let mask: Int

    init(_ entries: [(String, Value)]) {
        var size = 8
        while size < entries.count * 2 { size *= 2 }
        var slots = [Int32](repeating: 0, count: size)
        var keys: [[UInt8]] = []
        var values: [Value] = []
        let mask = size - 1
        for (key, value) in entries {
            let bytes = Array(key.utf8)
            var slot = Int(truncatingIfNeeded: Self.hash(bytes[...])) & mask
            var duplicate = false
            while slots[slot] != 0 {
                if keys[Int(slots[slot]) - 1] == bytes { duplicate = true; break }
                slot = (slot + 1) & mask
            }
            if duplicate { continue }
            keys.append(bytes)
            values.append(value)
            slots[slot] = Int32(keys.count)
        }
        self.keys = keys
        self.values = values
        self.slots = slots
        self.mask = mask
    }

    var count: Int { keys.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBufferPointer { hash($0) }
    }

    /// The value for `key`, or nil.
    @inline(__always)
    subscript(key: String) -> Value? {
        if let found = key.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return found }
        return Array(key.utf8).withUnsafeBufferPointer { lookup($0) }
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    @inline(__always)
    private func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let candidate = keys[entry - 1]
            if candidate.count == bytes.count, bytes.count == 0 || candidate.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
                return values[entry - 1]
            }
            slot = (slot + 1) & mask
        }
    }
}
