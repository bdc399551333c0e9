/// Deterministic randomness for the synthetic district: SplitMix64 streams derived from the seed
/// and a (stream, index) pair, so any household can be regenerated on its own, in any order.
struct DistrictRandom {
    private var state: UInt64

    /// A generator for one (stream, index) pair of a district seed.
    init(seed: UInt64, stream: UInt64, index: Int) {
        state = DistrictRandom.mix(seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)) ^ DistrictRandom.mix(UInt64(truncatingIfNeeded: index) &+ stream &* 0xD6E8_FEB8_6659_FD93)
    }

    /// The SplitMix64 finalizer: a well-mixed 64-bit hash of `z`.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return DistrictRandom.mix(state)
    }

    /// Uniform in `0..<bound` (bound > 0); the tiny modulo bias does not matter here.
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next() % UInt64(bound))
    }

    /// Uniform in `range`.
    mutating func within(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) * 0x1.0p-53 < p
    }

    /// An index into `weights`, drawn in proportion to them.
    mutating func weighted(_ weights: [Double]) -> Int {
        var total = 0.0
        for w in weights { total += w }
        var u = Double(next() >> 11) * 0x1.0p-53 * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }

    /// One element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// The independent random streams; each department's messiness has its own, so changing one
/// department's rates does not change anything else.
enum RandomStream: UInt64 {
    case householdSize = 1, composition, names, details, police, socialSecurity, health, dibao, marriage, death, seqOffset
}
