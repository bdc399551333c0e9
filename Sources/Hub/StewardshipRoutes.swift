import Catalog
import Feed
import Foundation
import HTTP
import JSON5
import RecordStore
import Store
import Telemetry

/// The admins' stewardship API: conflicts listed, summarized and resolved (one by one or in bulk),
/// golden values corrected and overrides removed, and the record-once counters. Every decision
/// is written to the audit log in the transaction that makes it. Guide: docs/stewardship.md.
struct StewardshipRoutes {
    let store: RecordStore
    let catalog: Catalog
    let auth: Authenticator

    func register(on router: Router) {
        router.add(.GET, "/v1/conflicts") { request in
            try auth.requireAdmin(request)
            let after = try Query.int64(request, "after", default: 0)
            let conflicts = try store.conflicts(try filter(request), afterID: after, limit: try Query.limit(request))
            var w = JSONWriter()
            w.objects("conflicts", conflicts) { w, c in Self.write(c, into: &w) }
            w.number("next", conflicts.last?.id ?? after)
            return .jsonText(w.json)
        }
        router.add(.GET, "/v1/conflicts/summary") { request in
            try auth.requireAdmin(request)
            let counts = try store.conflictSummary(try filter(request))
            var w = JSONWriter()
            w.objects("summary", counts) { w, c in
                w.string("resource", c.resource)
                w.string("field", c.field)
                w.string("golden_department", c.goldenDepartment)
                w.string("challenger_department", c.challengerDepartment)
                w.number("open", c.count)
            }
            return .jsonText(w.json)
        }
        router.add(.GET, "/v1/conflicts/{id}") { request in
            try auth.requireAdmin(request)
            guard let conflict = try store.conflict(id: try conflictID(request)) else { throw HTTPError.notFound("no such conflict") }
            return .jsonText(Self.json(conflict))
        }
        router.add(.POST, "/v1/conflicts/{id}/resolve") { request in try resolve(request) }
        router.add(.POST, "/v1/conflicts/resolve") { request in try resolveMany(request) }
        router.add(.PUT, "/v1/resources/{resource}/{id}/fields/{field}") { request in try correct(request) }
        router.add(.DELETE, "/v1/resources/{resource}/{id}/fields/{field}") { request in try removeOverride(request) }
        router.add(.GET, "/v1/stats/record-once") { request in
            try auth.requireAdmin(request)
            return .jsonText(Self.statsJSON(try store.recordOnceCounts()))
        }
    }

    // MARK: decisions

    /// `POST /v1/conflicts/{id}/resolve {"decision", "value" (set_value only), "reason"}`.
    private func resolve(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let id = try conflictID(request)
        let body = try DecisionRequest.body(request)
        let decision = try Self.decision(body, allowed: StewardDecision.allCases)
        let reason = try DecisionRequest.reason(body["reason"]?.stringValue)
        var value: String?
        if decision == .setValue {
            guard let conflict = try store.conflict(id: id) else { throw HTTPError.notFound("no such conflict") }
            guard let given = body["value"] else {
                throw HTTPError.badRequest("set_value needs a \"value\"", code: "missing_value")
            }
            value = try checked(given, resource: conflict.resource, field: conflict.field)
        } else if body["value"] != nil {
            throw HTTPError.badRequest("only set_value takes a \"value\"", code: "unexpected_value")
        }
        let resolved = try mapped {
            try store.pool.transaction { c in
                let (conflict, change) = try store.resolveConflict(id: id, decision: decision, value: value, by: by, reason: reason, in: c)
                try AuditLog.append([audit(by: by, reason: reason, action: "resolve conflict \(id): \(decision.rawValue)",
                                           change: change, field: conflict.field)], in: c)
                return conflict
            }
        }
        return .jsonText(Self.json(resolved))
    }

    /// `POST /v1/conflicts/resolve {"filter", "decision", "reason", "dry_run"}`: one transaction;
    /// a dry run does everything, counts, and rolls back.
    private func resolveMany(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let body = try DecisionRequest.body(request)
        let decision = try Self.decision(body, allowed: [.keepGolden, .takeChallenger])
        let reason = try DecisionRequest.reason(body["reason"]?.stringValue)
        guard let f = body["filter"]?.objectValue else {
            throw HTTPError.badRequest("give a \"filter\" with resource, field, golden_department and/or challenger_department",
                                       code: "missing_filter")
        }
        for member in f.members where !["resource", "field", "golden_department", "challenger_department"].contains(member.key) {
            throw HTTPError.badRequest("filter.\(member.key) is not a filter (resource, field, golden_department, challenger_department)",
                                       code: "invalid_filter")
        }
        let filter = ConflictFilter(status: "open", resource: f["resource"]?.stringValue, field: f["field"]?.stringValue,
                                    goldenDepartment: f["golden_department"]?.stringValue,
                                    challengerDepartment: f["challenger_department"]?.stringValue)
        guard filter.resource != nil || filter.field != nil || filter.goldenDepartment != nil || filter.challengerDepartment != nil else {
            throw HTTPError.badRequest("the filter must name at least one of resource, field, golden_department, challenger_department",
                                       code: "missing_filter")
        }
        let dryRun: Bool
        switch body["dry_run"] {
        case nil, .null?: dryRun = false
        case .bool(let b)?: dryRun = b
        default: throw HTTPError.badRequest("dry_run must be true or false", code: "invalid_argument")
        }
        struct RolledBack: Error { let matched: Int, changed: Int }
        var counts: (matched: Int, changed: Int)
        do {
            counts = try mapped {
                try store.pool.transaction { c in
                    let ids = try store.openConflictIDs(filter, in: c)
                    var changed = 0
                    var entries: [AuditEntry] = []
                    for id in ids {
                        let decided: (conflict: ConflictView, change: StewardChange)
                        do {
                            decided = try store.resolveConflict(id: id, decision: decision, value: nil, by: by, reason: reason, in: c)
                        } catch StewardshipError.notOpen {
                            continue   // an earlier decision of this batch made it agree (superseded)
                        }
                        let (conflict, change) = decided
                        if change.valueChanged { changed += 1 }
                        entries.append(audit(by: by, reason: reason, action: "bulk resolve conflict \(id): \(decision.rawValue)",
                                             change: change, field: conflict.field))
                    }
                    if dryRun { throw RolledBack(matched: ids.count, changed: changed) }
                    try AuditLog.append(entries, in: c)
                    return (ids.count, changed)
                }
            }
        } catch let r as RolledBack {
            counts = (r.matched, r.changed)
        }
        var w = JSONWriter()
        w.raw("dry_run", dryRun ? "true" : "false")
        w.number("matched", counts.matched)
        w.number("changed", counts.changed)
        return .jsonText(w.json)
    }

    /// `PUT /v1/resources/{resource}/{id}/fields/{field} {"value", "reason"}`: a correction.
    private func correct(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let (resource, id, field) = try target(request)
        let body = try DecisionRequest.body(request)
        let reason = try DecisionRequest.reason(body["reason"]?.stringValue)
        guard let given = body["value"] else { throw HTTPError.badRequest("give the field's \"value\"", code: "missing_value") }
        let value = try checked(given, resource: resource, field: field)
        try mapped {
            try store.pool.transaction { c in
                let change = try store.correct(resource: resource, entityID: id, field: field, value: value, by: by, reason: reason, in: c)
                try AuditLog.append([audit(by: by, reason: reason, action: "correct \(resource).\(field)", change: change, field: field)], in: c)
            }
        }
        return try entityResponse(resource: resource, id: id)
    }

    /// `DELETE /v1/resources/{resource}/{id}/fields/{field}?reason=`: the field back to survivorship.
    private func removeOverride(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let (resource, id, field) = try target(request)
        let reason = try DecisionRequest.reason(request.query["reason"])
        try mapped {
            try store.pool.transaction { c in
                let change = try store.removeOverride(resource: resource, entityID: id, field: field, in: c)
                try AuditLog.append([audit(by: by, reason: reason, action: "remove override \(resource).\(field)", change: change, field: field)],
                                    in: c)
            }
        }
        return try entityResponse(resource: resource, id: id)
    }

    // MARK: helpers

    private func audit(by: String, reason: String, action: String, change: StewardChange, field: String) -> AuditEntry {
        AuditEntry(actor: by, purpose: reason, channel: .stewardship, firstPosition: change.position, lastPosition: change.position,
                   entityIDs: [change.entityID], fields: [field], action: action)
    }

    /// The value in canonical form, or 422 naming the rule it breaks (never the value).
    private func checked(_ value: JSONValue, resource: String, field name: String) throws -> String {
        guard let r = catalog.resource(resource), let field = r.field(name) else {
            throw HTTPError.notFound("no field '\(name)' in \(resource)")
        }
        if r.identityKey.contains(name) {
            throw HTTPError(status: 422, code: "invalid_value",
                            message: "\(name) is part of \(resource)'s identity key and cannot be overridden (rule identity_key)")
        }
        switch field.check(value, catalog: catalog) {
        case .success(let literal): return literal
        case .failure(let problem):
            throw HTTPError(status: 422, code: "invalid_value", message: "\(problem.message) (rule \(problem.rule))")
        }
    }

    private func target(_ request: Request) throws -> (resource: String, id: String, field: String) {
        let name = try Query.path(request, "resource")
        guard let resource = catalog.resources.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw HTTPError.notFound("no resource '\(name)' in the catalog")
        }
        let field = try Query.path(request, "field")
        guard resource.field(field) != nil else { throw HTTPError.notFound("no field '\(field)' in \(resource.name)") }
        return (resource.name, try Query.path(request, "id"), field)
    }

    private func entityResponse(resource: String, id: String) throws -> Response {
        guard let entity = try store.entity(resource: resource, id: id) else { throw HTTPError.notFound("no \(resource) \(id)") }
        return .jsonText(RecordRoutes.json(entity, versions: try store.versions(resource: resource, id: id)))
    }

    private func conflictID(_ request: Request) throws -> Int64 {
        guard let id = Int64(try Query.path(request, "id")) else { throw HTTPError.badRequest("conflict ids are numbers", code: "invalid_argument") }
        return id
    }

    private func filter(_ request: Request) throws -> ConflictFilter {
        let status = try Query.choice(request, "status", ["open", "resolved", "superseded", "all"], default: "open")
        return ConflictFilter(status: status == "all" ? nil : status, resource: request.query["resource"], field: request.query["field"],
                              department: request.query["department"], goldenDepartment: request.query["golden_department"],
                              challengerDepartment: request.query["challenger_department"])
    }

    /// Runs `body`, answering the store's refusals with their HTTP status.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StewardshipError {
            switch error {
            case .noConflict: throw HTTPError.notFound("no such conflict")
            case .notOpen(let id, let status):
                throw HTTPError(status: 409, code: "conflict_not_open", message: "conflict \(id) is \(status), not open")
            case .noEntity: throw HTTPError.notFound("no such record")
            case .noOverride(let field): throw HTTPError(status: 404, code: "no_override", message: "\(field) has no override to remove")
            }
        }
    }

    private static func decision(_ body: JSONObject, allowed: [StewardDecision]) throws -> StewardDecision {
        guard let text = body["decision"]?.stringValue, let decision = StewardDecision(rawValue: text), allowed.contains(decision) else {
            throw HTTPError.badRequest("decision must be one of \(allowed.map(\.rawValue).joined(separator: ", "))", code: "invalid_decision")
        }
        return decision
    }

    static func json(_ c: ConflictView) -> String {
        var w = JSONWriter()
        write(c, into: &w)
        return w.json
    }

    static func write(_ c: ConflictView, into w: inout JSONWriter) {
        w.number("id", c.id)
        w.string("resource", c.resource)
        w.string("entity_id", c.entityID)
        w.string("field", c.field)
        w.raw("golden", c.golden)
        w.raw("challenger", c.challenger)
        w.string("status", c.status)
        w.string("golden_department", c.goldenDepartment)
        w.string("challenger_department", c.challengerDepartment)
        if let r = c.resolution {
            var rw = JSONWriter()
            rw.string("decision", r.decision)
            rw.raw("value", r.value)
            rw.string("reason", r.reason)
            rw.string("by", r.by)
            rw.string("at", Timestamp.iso8601(r.at))
            w.raw("resolution", rw.json)
        }
        w.string("updated_at", Timestamp.iso8601(c.updatedAt))
    }

    /// The share of deliveries that repeated a fact the hub already had from another department.
    static func reuseShare(newFacts: Int64, confirmations: Int64) -> Double {
        newFacts + confirmations == 0 ? 0 : Double(confirmations) / Double(newFacts + confirmations)
    }

    static func statsJSON(_ counts: [RecordOnceCount]) -> String {
        var totals = [Int64](repeating: 0, count: ObservationKind.allCases.count)
        for c in counts { for kind in ObservationKind.allCases { totals[kind.rawValue] += c.count(kind) } }
        var t = JSONWriter()
        for kind in ObservationKind.allCases { t.number(kind.name, totals[kind.rawValue]) }
        let share = reuseShare(newFacts: totals[ObservationKind.newFact.rawValue], confirmations: totals[ObservationKind.confirmation.rawValue])
        t.raw("reuse_share", String(format: "%.4f", share))
        var w = JSONWriter()
        w.raw("totals", t.json)
        w.objects("departments", counts) { w, c in
            w.string("department", c.department)
            w.string("resource", c.resource)
            w.string("field", c.field)
            for kind in ObservationKind.allCases { w.number(kind.name, c.count(kind)) }
        }
        return w.json
    }
}

/// The record-once counters on /metrics, read from `record_once_counts` at scrape time (the
/// cluster's totals, kept across restarts).
final class RecordOnceMetrics: @unchecked Sendable {
    private let store: RecordStore
    private let lock = NSLock()
    private var cached: (at: Date, counts: [RecordOnceCount])?

    init(store: RecordStore) { self.store = store }

    func register(in metrics: MetricsRegistry) {
        metrics.counter("recordonce_record_once_observations_total",
                        help: "Observations the store took, by department, resource, field and kind (new_fact, confirmation, authority_change, disagreement).",
                        labels: ["department", "resource", "field", "kind"]) { [self] in
            counts().flatMap { c in ObservationKind.allCases.map { ([c.department, c.resource, c.field, $0.name], Double(c.count($0))) } }
        }
    }

    private func counts() -> [RecordOnceCount] {
        lock.lock()
        defer { lock.unlock() }
        if let cached, Date().timeIntervalSince(cached.at) < 1 { return cached.counts }
        let counts = (try? store.recordOnceCounts()) ?? []
        cached = (Date(), counts)
        return counts
    }
}
