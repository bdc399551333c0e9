import Foundation
import JSON5

/// Previous versions of entities, read once for every subscription of the SSE pump.
///
/// An area-changing `updated` event is projected once per subscription, and each projection asks
/// for the entity's previous version (a database round trip). A version never changes once
/// written, so the answer is shared: with 100 subscriptions one read instead of 100. Bounded;
/// when full it starts over (the pump asks for versions near the head, which it has just seen).
final class PreviousRecordCache: @unchecked Sendable {
    private struct Key: Hashable {
        let resource: String
        let entityID: String
        let version: Int
    }

    private let lock = NSLock()
    private var entries: [Key: JSONObject?] = [:]
    let capacity: Int

    init(capacity: Int = 8_192) {
        self.capacity = capacity
    }

    /// `lookup` with its answers shared through the cache (errors are not cached).
    func sharing(_ lookup: @escaping EventProjector.PreviousRecord) -> EventProjector.PreviousRecord {
        { [self] resource, entityID, version in
            let key = Key(resource: resource, entityID: entityID, version: version)
            if let hit = lock.withLock({ entries[key] }) { return hit }
            let value = try lookup(resource, entityID, version)
            lock.withLock {
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = .some(value)
            }
            return value
        }
    }

    /// Entries held (tests, diagnostics).
    var count: Int { lock.withLock { entries.count } }
}
