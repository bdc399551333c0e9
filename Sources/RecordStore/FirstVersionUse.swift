import Foundation

/// How often a resource's records start a new entity, as the writers of one store saw it, so
/// that the reader prepares a first version ahead (record, provenance and event JSON, match
/// data: on the reader's thread, beside the writers) only where it will be used.
///
/// A police register loaded first creates nearly every Person: each first version prepared
/// ahead is used. The social-security file after it only confirms those people (and names the
/// same employers again): nearly every first version prepared ahead would be thrown away, a
/// sixth of that file's CPU. What the reader does not prepare, the writer makes when it needs it;
/// the stored result is the same either way (`GoldenRecordCodec.firstVersion` is pure).
public final class FirstVersionUse: @unchecked Sendable {
    public enum Mode: Sendable {
        /// By what the writers saw (the default).
        case adaptive
        /// Always, or never: the equivalence test stores the same files both ways.
        case always, never
    }

    let mode: Mode
    private let lock = NSLock()
    private var counts: [String: (records: Int, firsts: Int)] = [:]
    /// Below this many records of a resource seen, first versions are prepared ahead.
    static let sample = 500

    public init(mode: Mode = .adaptive) { self.mode = mode }

    /// Whether first versions of this resource are worth preparing ahead: no evidence yet, or at
    /// least half of its recent records started a new entity.
    func worthPreparing(_ resource: String) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .adaptive: break
        }
        lock.lock(); defer { lock.unlock() }
        guard let c = counts[resource], c.records >= Self.sample else { return true }
        return c.firsts * 2 >= c.records
    }

    /// Adds what one batch saw. Counts are halved as they grow, so that the recent batches decide
    /// (a file that turns from new people to known ones switches after a few batches).
    func note(_ seen: [String: (records: Int, firsts: Int)]) {
        guard !seen.isEmpty else { return }
        lock.lock(); defer { lock.unlock() }
        for (resource, s) in seen {
            var c = counts[resource] ?? (0, 0)
            c.records += s.records
            c.firsts += s.firsts
            if c.records > 20 * Self.sample { c = (c.records / 2, c.firsts / 2) }
            counts[resource] = c
        }
    }
}
