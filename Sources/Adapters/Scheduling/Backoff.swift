/// Exponential backoff with jitter for retriable pull failures.
///
/// The n-th failure in a row waits `base * 2^(n-1)`, capped at `maximum`, then scaled by a random
/// factor in [0.5, 1] ("equal jitter") so that adapters failing together do not retry together.
/// A department's Retry-After is honoured when it asks for longer (up to `maximum`).
public struct Backoff: Sendable, Equatable {
    public var base: Double
    public var maximum: Double

    public init(base: Double = 2, maximum: Double = 300) {
        self.base = base
        self.maximum = maximum
    }

    /// Seconds to wait after `failures` failures in a row (1 for the first), given `retryAfter`.
    public func delay(failures: Int, retryAfter: Double? = nil, random: Double = Double.random(in: 0...1)) -> Double {
        let exponent = Double(min(max(failures, 1) - 1, 30))
        let ceiling = min(maximum, base * pow2(exponent))
        let jittered = ceiling * (0.5 + 0.5 * min(max(random, 0), 1))
        guard let retryAfter, retryAfter > jittered else { return jittered }
        return min(retryAfter, maximum)
    }

    private func pow2(_ n: Double) -> Double {
        var v = 1.0
        for _ in 0..<Int(n) { v *= 2 }
        return v
    }
}
