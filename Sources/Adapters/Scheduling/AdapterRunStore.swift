import Foundation
import Store

/// The `adapters` table: registrations, run state, counters and leases. Every method is one
/// short statement or transaction; leases are claimed and renewed with conditional UPDATEs so
/// that any number of hub processes can share one database.
public struct AdapterRunStore: Sendable {
    public let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        a.id, a.declaration, a.origin, a.file, a.revision, a.pull_kind, a.pull_every, a.state, a.next_run_at,
        a.lease_owner, a.lease_until, a.failures, a.last_run_at, a.last_success_at, a.last_error, a.last_error_at,
        a.runs, a.records_in, a.accepted, a.unchanged, a.rejected, a.skipped, a.created_at, a.updated_at,
        c.checkpoint, c.updated_at AS checkpoint_at, now() AS read_at
        FROM adapters a LEFT JOIN adapter_checkpoints c ON c.adapter = a.id
        """

    // MARK: registrations

    /// What `save` did.
    public enum SaveResult: Sendable, Equatable { case created, changed, unchanged }

    /// Inserts or replaces a registration. A changed declaration increments the revision and
    /// clears a failing state (an admin changed it: try again now); a paused adapter stays paused.
    /// With `createOnly`, an existing id is left alone and nil is returned.
    @discardableResult
    public func save(id: String, declaration: String, origin: String, file: String?, pullKind: String?,
                     pullEvery: Double?, createOnly: Bool = false) throws -> SaveResult? {
        try pool.transaction { c in
            var existing = try c.query("SELECT declaration, origin, file FROM adapters WHERE id = $1 FOR UPDATE", [id]).first
            if existing == nil {
                // Two hub processes starting together both find no row: the second insert waits for
                // the first to commit, then does nothing, and this one goes on as for an existing row.
                let inserted = try c.execute("""
                    INSERT INTO adapters (id, declaration, origin, file, pull_kind, pull_every, next_run_at)
                    VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END)
                    ON CONFLICT (id) DO NOTHING
                    """, [id, declaration, origin, file, pullKind, pullEvery])
                if inserted == 1 { return .created }
                existing = try c.query("SELECT declaration, origin, file FROM adapters WHERE id = $1 FOR UPDATE", [id]).first
            }
            guard let existing else { return .created }
            if createOnly { return nil }
            if existing["declaration"] == declaration && existing["origin"] == origin && existing["file"] == file {
                return .unchanged
            }
            try c.execute("""
                UPDATE adapters SET declaration = $2, origin = $3, file = $4, pull_kind = $5, pull_every = $6,
                    revision = revision + 1, failures = 0, updated_at = now(),
                    state = CASE WHEN state = 'paused' THEN 'paused' ELSE 'running' END,
                    next_run_at = CASE WHEN $5::text IS NULL THEN NULL ELSE now() END
                WHERE id = $1
                """, [id, declaration, origin, file, pullKind, pullEvery])
            return .changed
        }
    }

    /// Removes a registration and revokes its department tokens; true when it existed. Its
    /// checkpoint and the records it delivered stay.
    public func delete(id: String) throws -> Bool {
        try pool.transaction { c in
            try c.execute("UPDATE api_tokens SET revoked_at = now() WHERE kind = 'adapter' AND subject = $1 AND revoked_at IS NULL", [id])
            return try c.execute("DELETE FROM adapters WHERE id = $1", [id]) == 1
        }
    }

    public func all() throws -> [AdapterStatus] {
        try pool.withConnection { c in try c.query("SELECT \(Self.columns) ORDER BY a.id").rows.map(Self.status) }
    }

    public func status(id: String) throws -> AdapterStatus? {
        try pool.withConnection { c in try c.query("SELECT \(Self.columns) WHERE a.id = $1", [id]).first.map(Self.status) }
    }

    /// Every registration's id and revision (cheap: hub processes poll it to pick up changes).
    public func revisions() throws -> [String: Int64] {
        try pool.withConnection { c in
            var out: [String: Int64] = [:]
            for row in try c.query("SELECT id, revision FROM adapters").rows {
                out[try row.decode(String.self, "id")] = try row.decode(Int64.self, "revision")
            }
            return out
        }
    }

    /// The declaration text and file of one registration.
    public func declaration(id: String) throws -> (text: String, file: String?, revision: Int64)? {
        try pool.withConnection { c in
            guard let row = try c.query("SELECT declaration, file, revision FROM adapters WHERE id = $1", [id]).first else { return nil }
            return (try row.decode(String.self, "declaration"), row["file"], try row.decode(Int64.self, "revision"))
        }
    }

    // MARK: admin actions

    /// Why an admin action was refused.
    public struct ActionRefused: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Stops scheduled runs; a run in progress stops after its current page.
    public func pause(id: String) throws -> Bool {
        try pool.withConnection { c in
            try c.execute("UPDATE adapters SET state = 'paused', updated_at = now() WHERE id = $1", [id]) == 1
        }
    }

    /// Back to running, failures forgotten, a pull adapter runs at once.
    public func resume(id: String) throws -> Bool {
        try pool.withConnection { c in
            try c.execute("""
                UPDATE adapters SET state = 'running', failures = 0, updated_at = now(),
                    next_run_at = CASE WHEN pull_kind IS NULL THEN NULL ELSE now() END
                WHERE id = $1
                """, [id]) == 1
        }
    }

    /// Makes a pull adapter due now. Refused for push-only, paused and failing adapters.
    public func requestRun(id: String) throws -> Bool {
        try pool.transaction { c in
            guard let row = try c.query("SELECT state, pull_kind FROM adapters WHERE id = $1 FOR UPDATE", [id]).first else { return false }
            guard row["pull_kind"] != nil else { throw ActionRefused(description: "adapter '\(id)' has no pull: its department pushes") }
            switch row["state"] {
            case "paused": throw ActionRefused(description: "adapter '\(id)' is paused: resume it to run it")
            case "failing": throw ActionRefused(description: "adapter '\(id)' is failing: resume it (after fixing the cause) to run it")
            default: break
            }
            try c.execute("UPDATE adapters SET next_run_at = now(), updated_at = now() WHERE id = $1", [id])
            return true
        }
    }

    /// Sets (rewinds) the checkpoint; nil forgets it, so the next pull starts from the beginning.
    /// Refused while a pull holds the lease (pause the adapter and wait for the run to end).
    public func setCheckpoint(id: String, to checkpoint: String?) throws -> Bool {
        try pool.transaction { c in
            guard let row = try c.query("SELECT lease_until > now() AS leased FROM adapters WHERE id = $1 FOR UPDATE", [id]).first else { return false }
            if row["leased"] == "t" {
                throw ActionRefused(description: "adapter '\(id)' is pulling now; pause it, wait for the run to end, then rewind")
            }
            if let checkpoint {
                try c.execute("""
                    INSERT INTO adapter_checkpoints (adapter, checkpoint) VALUES ($1, $2)
                    ON CONFLICT (adapter) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()
                    """, [id, checkpoint])
            } else {
                try c.execute("DELETE FROM adapter_checkpoints WHERE adapter = $1", [id])
            }
            try c.execute("""
                UPDATE adapters SET updated_at = now(),
                    next_run_at = CASE WHEN pull_kind IS NOT NULL AND state IN ('running', 'degraded') THEN now() ELSE next_run_at END
                WHERE id = $1
                """, [id])
            return true
        }
    }

    /// Adds a push's counts and marks the adapter caught up.
    public func recordPush(id: String, counts: PageCounts) throws {
        _ = try pool.withConnection { c in
            try c.execute("""
                UPDATE adapters SET records_in = records_in + $2, accepted = accepted + $3, unchanged = unchanged + $4,
                    rejected = rejected + $5, skipped = skipped + $6, last_run_at = now(), last_success_at = now()
                WHERE id = $1
                """, [id, counts.records, counts.accepted, counts.unchanged, counts.rejected, counts.skipped])
        }
    }

    /// Adds one pulled page's counts (the run's end adds nothing more).
    public func addCounts(id: String, counts: PageCounts) throws {
        _ = try pool.withConnection { c in
            try c.execute("""
                UPDATE adapters SET records_in = records_in + $2, accepted = accepted + $3, unchanged = unchanged + $4,
                    rejected = rejected + $5, skipped = skipped + $6
                WHERE id = $1
                """, [id, counts.records, counts.accepted, counts.unchanged, counts.rejected, counts.skipped])
        }
    }

    public func checkpoint(id: String) throws -> String? {
        try pool.withConnection { c in try c.query("SELECT checkpoint FROM adapter_checkpoints WHERE adapter = $1", [id]).first?["checkpoint"] }
    }

    // MARK: leases

    /// A pull run this process claimed.
    public struct Claim: Sendable {
        public var id: String
        public var declaration: String
        public var file: String?
        public var revision: Int64
        public var failures: Int
    }

    /// Claims up to `limit` due pull adapters whose lease is free or expired (a dead process's).
    public func claimDue(owner: String, leaseSeconds: Double, limit: Int) throws -> [Claim] {
        guard limit > 0 else { return [] }
        return try pool.withConnection { c in
            try c.query("""
                UPDATE adapters SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
                WHERE id IN (
                    SELECT id FROM adapters
                    WHERE pull_kind IS NOT NULL AND state IN ('running', 'degraded') AND next_run_at <= now()
                      AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY next_run_at LIMIT $3
                    FOR UPDATE SKIP LOCKED)
                  AND (lease_until IS NULL OR lease_until < now())
                RETURNING id, declaration, file, revision, failures
                """, [owner, leaseSeconds, limit]).rows.map { row in
                Claim(id: try row.decode(String.self, "id"), declaration: try row.decode(String.self, "declaration"),
                      file: row["file"], revision: try row.decode(Int64.self, "revision"),
                      failures: try row.decode(Int.self, "failures"))
            }
        }
    }

    /// Extends the leases `owner` holds on the runs `held` (adapter id → the revision the run
    /// started with); returns the ids still held and still meant to run. An adapter paused,
    /// removed, changed (a new revision) or taken over meanwhile is not returned: its run should stop.
    public func renew(owner: String, held: [String: Int64], leaseSeconds: Double) throws -> Set<String> {
        guard !held.isEmpty else { return [] }
        let ids = Array(held.keys)
        return try pool.withConnection { c in
            Set(try c.query("""
                UPDATE adapters a SET lease_until = now() + make_interval(secs => $4)
                FROM unnest($2::text[], $3::bigint[]) AS r (id, revision)
                WHERE a.id = r.id AND a.revision = r.revision AND a.lease_owner = $1 AND a.state IN ('running', 'degraded')
                RETURNING a.id
                """, [owner, ids, ids.map { held[$0]! }, leaseSeconds]).rows.compactMap { $0["id"] })
        }
    }

    /// How a run ended.
    public enum RunEnd: Sendable {
        /// Stored every page it got; `caughtUp` when the source had nothing more.
        case succeeded(caughtUp: Bool, every: Double)
        /// Retriable failure: run again after `delay` seconds, state degraded.
        case retrying(reason: String, delay: Double)
        /// Permanent failure: state failing until an admin acts.
        case failed(reason: String)
        /// Stopped early (paused, lease lost, hub stopping): state untouched, due again at once.
        case interrupted
    }

    /// Records the end of a run and releases the lease, if `owner` still holds it.
    @discardableResult
    public func finish(id: String, owner: String, revision: Int64, counts: PageCounts, end: RunEnd) throws -> Bool {
        var state = "state"
        var nextRun = "next_run_at"
        var failures = "failures"
        var error = "last_error"
        var errorAt = "last_error_at"
        var success = "last_success_at"
        var delay: Double?
        var reason: String?
        switch end {
        case .succeeded(let caughtUp, let every):
            state = "CASE WHEN state = 'paused' THEN 'paused' ELSE 'running' END"
            delay = caughtUp ? every : 0
            nextRun = "now() + make_interval(secs => $9)"
            failures = "0"
            if caughtUp { success = "now()" }
        case .retrying(let why, let wait):
            state = "CASE WHEN state = 'paused' THEN 'paused' ELSE 'degraded' END"
            delay = wait
            reason = why
            nextRun = "now() + make_interval(secs => $9)"
            failures = "failures + 1"
            error = "$10"
            errorAt = "now()"
        case .failed(let why):
            state = "CASE WHEN state = 'paused' THEN 'paused' ELSE 'failing' END"
            reason = why
            nextRun = "NULL"
            failures = "failures + 1"
            error = "$10"
            errorAt = "now()"
        case .interrupted:
            nextRun = "now()"
        }
        // $9 and $10 are typed in the WHERE clause so that a case that does not use them is valid.
        let parameters: [any PostgresEncodable] = [id, owner, counts.records, counts.accepted, counts.unchanged,
                                                   counts.rejected, counts.skipped, revision, delay, reason]
        // A declaration changed during the run keeps the state the change gave it.
        return try pool.withConnection { c in
            try c.execute("""
                UPDATE adapters SET lease_owner = NULL, lease_until = NULL, last_run_at = now(), runs = runs + 1,
                    records_in = records_in + $3, accepted = accepted + $4, unchanged = unchanged + $5,
                    rejected = rejected + $6, skipped = skipped + $7,
                    state = CASE WHEN revision = $8 THEN \(state) ELSE state END,
                    next_run_at = CASE WHEN revision = $8 THEN \(nextRun) ELSE next_run_at END,
                    failures = CASE WHEN revision = $8 THEN \(failures) ELSE failures END,
                    last_error = \(error), last_error_at = \(errorAt), last_success_at = \(success)
                WHERE id = $1 AND lease_owner = $2 AND ($9::float8 IS NULL OR true) AND ($10::text IS NULL OR true)
                """, parameters) == 1
        }
    }

    static func status(_ row: Row) throws -> AdapterStatus {
        AdapterStatus(
            id: try row.decode(String.self, "id"), declaration: try row.decode(String.self, "declaration"),
            origin: try row.decode(String.self, "origin"), file: row["file"], revision: try row.decode(Int64.self, "revision"),
            pullKind: row["pull_kind"], pullEvery: try row.decodeIfPresent(Double.self, "pull_every"),
            state: AdapterState(rawValue: try row.decode(String.self, "state")) ?? .failing,
            nextRunAt: try row.decodeIfPresent(Date.self, "next_run_at"),
            leaseOwner: row["lease_owner"], leaseUntil: try row.decodeIfPresent(Date.self, "lease_until"),
            failures: try row.decode(Int.self, "failures"),
            lastRunAt: try row.decodeIfPresent(Date.self, "last_run_at"),
            lastSuccessAt: try row.decodeIfPresent(Date.self, "last_success_at"),
            lastError: row["last_error"], lastErrorAt: try row.decodeIfPresent(Date.self, "last_error_at"),
            runs: try row.decode(Int64.self, "runs"),
            counts: PageCounts(records: try row.decode(Int.self, "records_in"), accepted: try row.decode(Int.self, "accepted"),
                               unchanged: try row.decode(Int.self, "unchanged"), rejected: try row.decode(Int.self, "rejected"),
                               skipped: try row.decode(Int.self, "skipped")),
            checkpoint: row["checkpoint"], checkpointAt: try row.decodeIfPresent(Date.self, "checkpoint_at"),
            createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"),
            readAt: try row.decode(Date.self, "read_at"))
    }
}
