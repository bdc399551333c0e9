import Foundation

/// A department system's records in change order: each record has a key and the stamp of its
/// last change; changing a record gives it a new stamp and moves it to the end, as a real
/// system's `ORDER BY updated_at` would. Thread-safe.
public final class ChangeStampedTable: @unchecked Sendable {
    /// One record with its change stamp (ms since 1970).
    public struct Entry: Sendable {
        public var key: String
        public var stamp: Int64
        public var record: DepartmentRecord
    }

    private let lock = NSLock()
    private let clock = ChangeClock()
    private var entries: [Entry] = []
    private var stamps: [String: Int64] = [:]

    init() {}

    public var count: Int { lock.withLock { entries.count } }

    /// Adds a record of the initial load (stamped one millisecond after the previous).
    func load(key: String, record: DepartmentRecord) {
        lock.withLock {
            let stamp = clock.nextInitial()
            entries.append(Entry(key: key, stamp: stamp, record: record))
            stamps[key] = stamp
        }
    }

    /// The current record under `key`.
    public func record(_ key: String) -> DepartmentRecord? {
        lock.withLock {
            guard let stamp = stamps[key], let i = position(of: stamp) else { return nil }
            return entries[i].record
        }
    }

    /// Changes (or adds) the record under `key`: `change` edits a copy, which gets a new stamp.
    /// Returns the new entry; nil when the key is unknown and `change` needs an existing record.
    @discardableResult
    public func update(_ key: String, _ change: (inout DepartmentRecord) -> Void) -> Entry? {
        lock.withLock {
            guard let old = stamps[key], let i = position(of: old) else { return nil }
            var record = entries[i].record
            change(&record)
            entries.remove(at: i)
            let entry = Entry(key: key, stamp: clock.next(), record: record)
            entries.append(entry)
            stamps[key] = entry.stamp
            return entry
        }
    }

    /// Entries with a stamp of at least `since` (or after `after`, exclusive), from `offset`, at most `limit`.
    /// Also returns how many match in all.
    public func page(sinceAtLeast since: Int64? = nil, after: Int64? = nil, offset: Int = 0, limit: Int) -> (entries: [Entry], total: Int) {
        lock.withLock {
            var start = 0
            if let since { start = firstIndex(stampAtLeast: since) }
            if let after { start = max(start, firstIndex(stampAtLeast: after + 1)) }
            let total = entries.count - start
            let from = min(entries.count, start + max(0, offset))
            let to = min(entries.count, from + max(0, limit))
            return (Array(entries[from..<to]), total)
        }
    }

    /// The keys of the first `count` entries with a stamp of at least `since` (to change records
    /// that a pager has already passed).
    func firstKeys(sinceAtLeast since: Int64, count: Int) -> [String] {
        lock.withLock {
            let start = firstIndex(stampAtLeast: since)
            return entries[start..<min(entries.count, start + count)].map(\.key)
        }
    }

    /// Every key, in change order.
    public var keys: [String] { lock.withLock { entries.map(\.key) } }

    private func firstIndex(stampAtLeast stamp: Int64) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].stamp < stamp { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func position(of stamp: Int64) -> Int? {
        let i = firstIndex(stampAtLeast: stamp)
        return i < entries.count && entries[i].stamp == stamp ? i : nil
    }
}
