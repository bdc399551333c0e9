import Foundation

/// Where an adapter stands, as admins see it.
public enum AdapterState: String, Sendable, CaseIterable {
    /// Takes pushes and, for pull adapters, runs on its schedule.
    case running
    /// Stopped by an admin: no scheduled runs (pushes are still taken).
    case paused
    /// The last pull failed in a way that may pass (timeout, 5xx, 429): retrying with backoff.
    case degraded
    /// Stopped by a permanent failure (401/403, every record rejected by the mapping, settings
    /// that cannot work) until an admin resumes or changes it.
    case failing
}

/// Records in a page or run, by what became of them.
public struct PageCounts: Sendable, Equatable {
    public var records = 0
    public var accepted = 0
    public var unchanged = 0
    public var rejected = 0
    public var skipped = 0

    public init(records: Int = 0, accepted: Int = 0, unchanged: Int = 0, rejected: Int = 0, skipped: Int = 0) {
        self.records = records
        self.accepted = accepted
        self.unchanged = unchanged
        self.rejected = rejected
        self.skipped = skipped
    }

    public static func += (a: inout PageCounts, b: PageCounts) {
        a.records += b.records
        a.accepted += b.accepted
        a.unchanged += b.unchanged
        a.rejected += b.rejected
        a.skipped += b.skipped
    }
}

/// One adapter's registration and run state, as stored in the `adapters` table.
public struct AdapterStatus: Sendable {
    public var id: String
    /// The declaration's JSON5 text (secrets only by reference).
    public var declaration: String
    /// `file` (adapters/*.json5, loaded at start-up) or `api` (registered over HTTP).
    public var origin: String
    public var file: String?
    /// Incremented at every change of the declaration; hub processes reload on a change.
    public var revision: Int64
    public var pullKind: String?
    public var pullEvery: Double?
    public var state: AdapterState
    public var nextRunAt: Date?
    /// The hub process running a pull now, and until when its lease holds.
    public var leaseOwner: String?
    public var leaseUntil: Date?
    /// Failures in a row (for the backoff).
    public var failures: Int
    public var lastRunAt: Date?
    /// The last time the adapter was caught up: a pull that reached the end, or a push.
    public var lastSuccessAt: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
    public var runs: Int64
    public var counts: PageCounts
    public var checkpoint: String?
    public var checkpointAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// The database's clock when this was read (lag is measured against it).
    public var readAt: Date

    /// Seconds since the adapter was last caught up; nil when it never was.
    public var lagSeconds: Double? { lastSuccessAt.map { max(0, readAt.timeIntervalSince($0)) } }

    /// True while a hub process holds an unexpired lease on it (a pull is running).
    public var isRunningNow: Bool { leaseOwner != nil && (leaseUntil.map { $0 > readAt } ?? false) }
}
