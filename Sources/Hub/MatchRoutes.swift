import Feed
import Foundation
import HTTP
import JSON5
import RecordStore
import Telemetry

/// The review queue of records without a usable identity key (guide: docs/stewardship.md,
/// "Review queue"): list and read match cases, link one to a named entity, reject one. Every
/// decision is written to the audit log (channel `stewardship`) in the transaction that makes it.
struct MatchRoutes {
    let ingest: IngestService
    let auth: Authenticator

    func register(on router: Router) {
        router.add(.GET, "/v1/matches") { request in
            try auth.requireAdmin(request)
            let status = try Query.choice(request, "status", ["open", "linked", "rejected", "all"], default: "open")
            let filter = MatchCaseFilter(status: status == "all" ? nil : status, adapter: request.query["adapter"],
                                         resource: request.query["resource"])
            let after = try Query.int64(request, "after", default: 0)
            let cases = try ingest.store.matchCases(filter, afterID: after, limit: try Query.limit(request))
            var w = JSONWriter()
            w.objects("matches", cases) { w, c in Self.write(c, into: &w) }
            w.number("next", cases.last?.id ?? after)
            return .jsonText(w.json)
        }
        router.add(.GET, "/v1/matches/{id}") { request in
            try auth.requireAdmin(request)
            guard let found = try ingest.store.matchCase(id: try caseID(request)) else { throw HTTPError.notFound("no such match case") }
            return .jsonText(Self.json(found))
        }
        router.add(.POST, "/v1/matches/{id}/link") { request in try link(request) }
        router.add(.POST, "/v1/matches/{id}/reject") { request in try reject(request) }
    }

    /// `POST /v1/matches/{id}/link {"entity_id", "reason"}`.
    private func link(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let id = try caseID(request)
        let body = try DecisionRequest.body(request)
        guard let entity = body["entity_id"]?.stringValue, UUID(uuidString: entity) != nil else {
            throw HTTPError.badRequest("give the \"entity_id\" (a UUID) of the record to link to", code: "missing_entity")
        }
        let reason = try DecisionRequest.reason(body["reason"]?.stringValue)
        guard let found = try ingest.store.matchCase(id: id) else { throw HTTPError.notFound("no such match case") }
        guard let registered = ingest.registry.adapter(found.adapter), let plan = registered.plan else {
            throw HTTPError(status: 409, code: "adapter_unavailable",
                            message: "the case's adapter \(found.adapter) is not registered with a working mapping on this hub")
        }
        let (linked, outcome) = try mapped {
            try ingest.store.pool.transaction { c in
                let result = try ingest.store.linkMatchCase(id: id, entityID: entity.lowercased(), by: by, reason: reason,
                                                            adapter: IngestSource(registered.declaration), plan: plan, in: c)
                try AuditLog.append([AuditEntry(actor: by, purpose: reason, channel: .stewardship, firstPosition: result.outcome.lastPosition,
                                                lastPosition: result.outcome.lastPosition, entityIDs: [entity.lowercased()], fields: [],
                                                action: "link match case \(id)")], in: c)
                return result
            }
        }
        var w = JSONWriter()
        Self.write(linked, into: &w)
        w.number("versions_written", outcome.versionsWritten)
        w.number("conflicts", outcome.conflicts)
        return .jsonText(w.json)
    }

    /// `POST /v1/matches/{id}/reject {"reason"}`.
    private func reject(_ request: Request) throws -> Response {
        let by = try auth.adminName(request)
        let id = try caseID(request)
        let reason = try DecisionRequest.reason(try DecisionRequest.body(request)["reason"]?.stringValue)
        let rejected = try mapped {
            try ingest.store.pool.transaction { c in
                let rejected = try ingest.store.rejectMatchCase(id: id, by: by, reason: reason, in: c)
                try AuditLog.append([AuditEntry(actor: by, purpose: reason, channel: .stewardship, firstPosition: nil, lastPosition: nil,
                                                entityIDs: [], fields: [], action: "reject match case \(id)")], in: c)
                return rejected
            }
        }
        return .jsonText(Self.json(rejected))
    }

    private func caseID(_ request: Request) throws -> Int64 {
        guard let id = Int64(try Query.path(request, "id")) else { throw HTTPError.badRequest("match case ids are numbers", code: "invalid_argument") }
        return id
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as MatchCaseError {
            switch error {
            case .noCase: throw HTTPError.notFound("no such match case")
            case .notOpen(let id, let status):
                throw HTTPError(status: 409, code: "match_not_open", message: "match case \(id) is \(status), not open")
            case .noEntity: throw HTTPError(status: 422, code: "no_entity", message: "no record with that entity_id")
            case .wrongResource(let expected):
                throw HTTPError(status: 422, code: "wrong_resource", message: "the case is about a \(expected); link it to a \(expected)")
            }
        }
    }

    static func json(_ c: MatchCaseView) -> String {
        var w = JSONWriter()
        write(c, into: &w)
        return w.json
    }

    static func write(_ c: MatchCaseView, into w: inout JSONWriter) {
        w.number("id", c.id)
        w.string("status", c.status)
        w.string("outcome", c.outcome)
        w.string("resource", c.resource)
        w.string("adapter", c.adapter)
        w.string("department", c.department)
        w.string("source_key", c.sourceKey)
        w.string("position", c.position)
        w.string("mapping", c.mapping)
        w.number("mapping_version", c.mappingVersion)
        w.raw("record", c.record)
        w.raw("candidates", c.candidates)
        w.raw("score", c.score.map { "\($0)" } ?? "null")
        w.raw("auto_link", "\(c.autoLink)")
        if c.status != "open" {
            var d = JSONWriter()
            d.string("entity_id", c.linkedEntity)
            d.string("by", c.decidedBy)
            d.string("reason", c.reason)
            d.string("at", c.decidedAt.map(Timestamp.iso8601))
            w.raw("decision", d.json)
        }
        w.string("created_at", Timestamp.iso8601(c.createdAt))
        w.string("updated_at", Timestamp.iso8601(c.updatedAt))
    }
}
