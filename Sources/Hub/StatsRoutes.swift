import Catalog
import Feed
import Foundation
import HTTP
import Store
import Telemetry

/// `/v1/stats/...`: read-only figures about the whole hub for dashboards and monitoring (the
/// console's overview is one client): counts, change events per minute, records per division,
/// and how far behind each subscription is. Admin only; aggregates, never record values.
struct StatsRoutes {
    let pool: ConnectionPool
    let catalog: Catalog
    let auth: Authenticator

    func register(on router: Router) {
        router.add(.GET, "/v1/stats/overview") { request in
            try auth.requireAdmin(request)
            return .jsonText(try pool.withConnection { try overview($0) })
        }
        router.add(.GET, "/v1/stats/changes") { request in
            try auth.requireAdmin(request)
            let minutes = try Self.minutes(request)
            return .jsonText(try pool.withConnection { try changes(minutes: minutes, $0) })
        }
        router.add(.GET, "/v1/stats/divisions") { request in
            try auth.requireAdmin(request)
            let (resource, field) = try divisionField(request)
            let minutes = try Self.minutes(request)
            return .jsonText(try pool.withConnection { try divisions(resource: resource, field: field, minutes: minutes, $0) })
        }
        router.add(.GET, "/v1/stats/subscriptions") { request in
            try auth.requireAdmin(request)
            return .jsonText(try pool.withConnection { try subscriptions($0) })
        }
    }

    /// `minutes` (the window of recent changes), 60 by default, 1 to 1,440.
    static func minutes(_ request: Request) throws -> Int {
        guard let text = request.query["minutes"] else { return 60 }
        guard let n = Int(text), (1...1440).contains(n) else {
            throw HTTPError.badRequest("minutes must be between 1 and 1440", code: "invalid_argument")
        }
        return n
    }

    // MARK: - Overview

    private func overview(_ c: PostgresConnection) throws -> String {
        var w = JSONWriter()
        let counts = try c.query("SELECT resource, count(*) AS n FROM entities GROUP BY resource").rows
        var byResource: [String: Int] = [:]
        for row in counts { byResource[row["resource"] ?? ""] = Int(row["n"] ?? "") ?? 0 }
        // Every catalog resource, in catalog order, zero when none is stored yet.
        let names = catalog.resources.map(\.name) + byResource.keys.filter { name in !catalog.resources.contains { $0.name == name } }.sorted()
        w.objects("resources", names) { w, name in
            w.string("resource", name)
            w.number("count", byResource[name] ?? 0)
        }
        let head = try ChangeLog.head(c)
        let last = try c.query("SELECT created_at FROM change_log WHERE position = $1", [head]).first
        var log = JSONWriter()
        log.number("head", head)
        log.string("last_event_at", try last?.decodeIfPresent(Date.self, "created_at").map(Timestamp.iso8601))
        w.raw("change_log", log.json)
        w.raw("adapters", try tally(c, "SELECT state AS k, count(*) AS n FROM adapters GROUP BY state",
                                    keys: ["running", "degraded", "failing", "paused"]))
        let rejects = try c.query("SELECT adapter, count(*) AS n FROM rejects WHERE status = 'open' GROUP BY adapter ORDER BY adapter").rows
        var r = JSONWriter()
        r.number("open", rejects.reduce(0) { $0 + (Int($1["n"] ?? "") ?? 0) })
        r.objects("by_adapter", rejects) { w, row in
            w.string("adapter", row["adapter"])
            w.number("open", Int(row["n"] ?? "") ?? 0)
        }
        w.raw("rejects", r.json)
        w.raw("conflicts", try tally(c, "SELECT status AS k, count(*) AS n FROM conflicts GROUP BY status", keys: ["open"]))
        w.raw("matches", try tally(c, "SELECT status AS k, count(*) AS n FROM match_cases GROUP BY status", keys: ["open"]))
        w.raw("subscriptions", try tally(c, "SELECT status AS k, count(*) AS n FROM subscriptions WHERE status <> 'deleted' GROUP BY status",
                                         keys: ["active", "paused", "disabled"]))
        return w.json
    }

    /// `{"total":N, key: n, ...}` from a query of (k, n) rows; `keys` are always present.
    private func tally(_ c: PostgresConnection, _ sql: String, keys: [String]) throws -> String {
        var values: [String: Int] = [:]
        for row in try c.query(sql).rows { values[row["k"] ?? ""] = Int(row["n"] ?? "") ?? 0 }
        var w = JSONWriter()
        w.number("total", values.values.reduce(0, +))
        for key in keys + values.keys.filter({ !keys.contains($0) }).sorted() { w.number(key, values[key] ?? 0) }
        return w.json
    }

    // MARK: - Change events per minute

    private func changes(minutes: Int, _ c: PostgresConnection) throws -> String {
        let now = Date()
        let since = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60 - Double(minutes - 1) * 60)
        let first = try Self.firstPosition(since: since, c)
        var perMinute: [Int: Int] = [:]
        for row in try c.query("""
            SELECT floor(extract(epoch FROM created_at) / 60)::bigint AS m, count(*) AS n
            FROM change_log WHERE position >= $1 AND created_at >= $2 GROUP BY 1
            """, [first, since]).rows {
            perMinute[Int(row["m"] ?? "") ?? 0] = Int(row["n"] ?? "") ?? 0
        }
        let firstMinute = Int(since.timeIntervalSince1970 / 60)
        let buckets = (0..<minutes).map { firstMinute + $0 }
        var w = JSONWriter()
        w.number("minutes", minutes)
        w.string("since", Timestamp.iso8601(since))
        w.number("total", buckets.reduce(0) { $0 + (perMinute[$1] ?? 0) })
        w.objects("buckets", buckets) { w, minute in
            w.string("start", Timestamp.iso8601(Date(timeIntervalSince1970: Double(minute) * 60)))
            w.number("events", perMinute[minute] ?? 0)
        }
        return w.json
    }

    /// The first change-log position written at or after `since` (head + 1 when none): a binary
    /// search over the primary key, since positions are handed out in commit order.
    static func firstPosition(since: Date, _ c: PostgresConnection) throws -> Int64 {
        let head = try ChangeLog.head(c)
        var low: Int64 = 1, high = head + 1
        while low < high {
            let mid = low + (high - low) / 2
            let time = try c.query("SELECT created_at FROM change_log WHERE position = $1", [mid]).first?.decodeIfPresent(Date.self, "created_at")
            if let time, time < since { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: - Records per division

    /// The resource (Person by default) and its division-code field (the first one by default).
    private func divisionField(_ request: Request) throws -> (String, String) {
        let name = request.query["resource"] ?? "Person"
        guard let resource = catalog.resources.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw HTTPError.notFound("no resource '\(name)' in the catalog")
        }
        let fields = SubscriptionValidator.areaFields(of: resource)
        let field = request.query["field"] ?? (resource.fields.first { $0.name == "community_code" && fields.contains($0.name) }?.name ?? fields.first)
        guard let field, fields.contains(field) else {
            throw HTTPError.badRequest("field must be a division-code field of \(resource.name): \(fields.joined(separator: ", "))",
                                       code: "invalid_argument")
        }
        return (resource.name, field)
    }

    private func divisions(resource: String, field: String, minutes: Int, _ c: PostgresConnection) throws -> String {
        var counts: [String: (records: Int, changes: Int)] = [:]
        for row in try c.query("""
            SELECT record->>$2 AS code, count(*) AS n FROM entities WHERE resource = $1 GROUP BY 1
            """, [resource, field]).rows {
            counts[row["code"] ?? "", default: (0, 0)].records = Int(row["n"] ?? "") ?? 0
        }
        let since = Date().addingTimeInterval(-Double(minutes) * 60)
        let first = try Self.firstPosition(since: since, c)
        for row in try c.query("""
            SELECT e.record->>$2 AS code, count(*) AS n
            FROM change_log l JOIN entities e ON e.id = l.entity_id::uuid
            WHERE l.position >= $3 AND l.resource = $1 GROUP BY 1
            """, [resource, field, first]).rows {
            counts[row["code"] ?? "", default: (0, 0)].changes = Int(row["n"] ?? "") ?? 0
        }
        var w = JSONWriter()
        w.string("resource", resource)
        w.string("field", field)
        w.number("minutes", minutes)
        // Records without a value in the field are counted under code null.
        w.objects("divisions", counts.keys.sorted()) { w, code in
            w.string("code", code.isEmpty ? nil : code)
            w.number("records", counts[code]!.records)
            w.number("changes", counts[code]!.changes)
        }
        return w.json
    }

    // MARK: - Subscription lag

    private func subscriptions(_ c: PostgresConnection) throws -> String {
        let head = try ChangeLog.head(c)
        let rows = try c.query("""
            SELECT s.id, s.spec->>'name' AS name, s.status, coalesce(s.spec->'delivery'->>'mode', 'pull') AS mode,
                   d.position AS webhook_position, d.updated_at AS webhook_at, d.failing_since, d.last_error,
                   a.last_position AS read_position, a.time AS read_at
            FROM subscriptions s
            LEFT JOIN webhook_deliveries d ON d.subscription_id = s.id
            LEFT JOIN LATERAL (SELECT last_position, time FROM audit_log
                               WHERE actor = 'subscription:' || s.id AND channel IN ('pull', 'stream', 'webhook')
                                 AND last_position IS NOT NULL
                               ORDER BY id DESC LIMIT 1) a ON true
            WHERE s.status <> 'deleted' ORDER BY s.created_at, s.id
            """).rows
        var w = JSONWriter()
        w.number("head", head)
        w.objects("subscriptions", rows) { w, row in
            let mode = row["mode"] ?? "pull"
            let position = Int64((mode == "webhook" ? row["webhook_position"] : row["read_position"]) ?? "")
            w.string("id", row["id"])
            w.string("name", row["name"])
            w.string("status", row["status"])
            w.string("mode", mode)
            w.number("delivered_position", position)
            w.number("lag", position.map { max(0, head - $0) })
            w.string("last_delivery_at", (try? row.decodeIfPresent(Date.self, mode == "webhook" ? "webhook_at" : "read_at"))?.map(Timestamp.iso8601) ?? nil)
            w.string("failing_since", (try? row.decodeIfPresent(Date.self, "failing_since"))?.map(Timestamp.iso8601) ?? nil)
        }
        return w.json
    }
}
