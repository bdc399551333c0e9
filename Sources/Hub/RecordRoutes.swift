import Adapters
import Feed
import Foundation
import HTTP
import RecordStore
import Store
import Telemetry

/// The record-once API: department pushes, the change log, golden records, rejects (conflicts and
/// corrections: `StewardshipRoutes`).
struct RecordRoutes {
    let ingest: IngestService
    let auth: Authenticator
    let maxIngestBody: Int
    /// Push counters per adapter (records in, accepted, rejected).
    let adapters: AdapterRunStore
    /// Audit of admin reads, and snapshot pages for subscriber tokens.
    let feed: FeedService?
    let feedRoutes: FeedRoutes?

    var store: RecordStore { ingest.store }

    func register(on router: Router) {
        router.add(.POST, "/v1/ingest/{adapter}", bodyLimit: maxIngestBody) { request in
            try push(request)
        }
        router.add(.GET, "/v1/changes") { request in
            try auth.requireAdmin(request)
            let after = try Query.int64(request, "after", default: 0)
            let limit = try Query.limit(request)
            let events = try store.pool.withConnection { try ChangeLog.read(after: after, limit: limit, from: $0) }
            var w = JSONWriter()
            w.objects("events", events) { w, e in Self.write(event: e, into: &w) }
            w.number("next", events.last?.position ?? after)
            return .jsonText(w.json)
        }
        router.add(.GET, "/v1/resources/{resource}/{id}") { request in
            try auth.requireAdmin(request)
            let resource = try resourceName(request)
            let id = try Query.path(request, "id")
            let version = try Query.optionalInt(request, "version")
            guard let entity = try store.entity(resource: resource, id: id, version: version) else {
                throw HTTPError.notFound(version == nil ? "no \(resource) \(id)" : "no version \(version!) of \(resource) \(id)")
            }
            return try read(entity, request)
        }
        router.add(.GET, "/v1/resources/{resource}") { request in
            let principal = try auth.principal(for: request)
            let resource = try resourceName(request)
            if case .subscriber(let id) = principal, let feedRoutes {
                // A subscriber's snapshot page, under its scope and masking.
                return try feedRoutes.snapshotResponse(request, subscriptionID: id, resource: resource)
            }
            guard principal == .admin else { throw HTTPError.forbidden("this endpoint is for the hub's admins and subscribers") }
            guard let key = request.query["key"], !key.isEmpty else {
                throw HTTPError.badRequest("give the identity key: ?key=... (for a Person, the citizen ID number)", code: "missing_key")
            }
            guard let entity = try store.entity(resource: resource, identityKey: key) else {
                throw HTTPError.notFound("no \(resource) with that key")
            }
            return try read(entity, request)
        }
        router.add(.GET, "/v1/rejects") { request in
            let adapter = try rejectsAdapter(request)
            let status = try Query.choice(request, "status", ["open", "retried", "all"], default: "open")
            let after = try Query.int64(request, "after", default: 0)
            let rejects = try store.rejects(adapter: adapter, status: status == "all" ? nil : status,
                                            afterID: after, limit: try Query.limit(request))
            var w = JSONWriter()
            w.objects("rejects", rejects) { w, r in
                w.number("id", r.id)
                w.string("adapter", r.adapter)
                w.string("source_key", r.sourceKey)
                w.string("position", r.position)
                w.raw("issues", r.issues)
                w.string("status", r.status)
                w.string("created_at", Timestamp.iso8601(r.createdAt))
            }
            w.number("next", rejects.last?.id ?? after)
            return .jsonText(w.json)
        }
        router.add(.POST, "/v1/rejects/{id}/retry") { request in
            let owner: String?
            switch try auth.principal(for: request) {
            case .admin: owner = nil
            case .adapter(let own): owner = own
            case .subscriber: throw HTTPError.forbidden("this endpoint is for the hub's admins and the adapter's own token")
            }
            guard let id = Int64(try Query.path(request, "id")) else { throw HTTPError.badRequest("reject ids are numbers") }
            let outcome = try ingest.retry(rejectID: id, adapter: owner)
            var w = JSONWriter()
            w.number("id", id)
            Self.write(outcome: outcome, into: &w)
            return .jsonText(w.json)
        }
    }

    /// `POST /v1/ingest/{adapter}`: the adapter's own token or an admin's.
    private func push(_ request: Request) throws -> Response {
        let principal = try auth.principal(for: request)
        let adapterID = try Query.path(request, "adapter")
        _ = try ingest.adapter(adapterID)
        switch principal {
        case .admin: break
        case .adapter(let id) where id == adapterID: break
        default: throw HTTPError.forbidden("this token may not push to adapter '\(adapterID)'")
        }
        let outcome = try ingest.ingest(adapterID: adapterID, body: request.body, name: "body")
        try adapters.recordPush(id: adapterID, counts: outcome.counts)
        var w = JSONWriter()
        w.string("adapter", adapterID)
        var totals = JSONWriter()
        totals.number("received", outcome.records.count)
        for status in [RecordOutcome.Status.accepted, .unchanged, .rejected, .skipped] {
            totals.number(status.rawValue, outcome.count(status))
        }
        w.raw("totals", totals.json)
        w.number("versions", outcome.versionsWritten)
        w.number("events", outcome.events)
        w.number("conflicts", outcome.conflicts)
        w.number("last_position", outcome.lastPosition)
        w.objects("records", outcome.records) { w, r in Self.write(outcome: r, into: &w) }
        return .jsonText(w.json)
    }

    /// An admin's read of a golden record: whole (`view=full`, the default) or under the
    /// least-privilege policy (`view=masked`); either is written to the audit log, with the fields
    /// it shows and the `purpose` given, before the answer is sent.
    private func read(_ entity: EntityView, _ request: Request) throws -> Response {
        let view = try Query.choice(request, "view", ["full", "masked"], default: "full")
        let purpose = request.query["purpose"].flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } ?? "administration"
        let versions = try store.versions(resource: entity.resource, id: entity.id)
        guard view == "masked", let resource = ingest.registry.resource(named: entity.resource) else {
            try feed?.auditAdminRead(entityIDs: [entity.id], fields: FeedService.fieldNames(ofRecord: entity.record), purpose: purpose)
            return .jsonText(Self.json(entity, versions: versions))
        }
        let masked = MaskedView.apply(record: entity.record, resource: resource)
        try feed?.auditAdminRead(entityIDs: [entity.id], fields: masked.fields, purpose: purpose + " (masked view)")
        var w = JSONWriter()
        w.string("id", entity.id)
        w.string("resource", entity.resource)
        w.string("identity_key", entity.identityKey)
        w.number("version", entity.version)
        w.raw("versions", "[" + versions.map(String.init).joined(separator: ",") + "]")
        w.string("updated_at", Timestamp.iso8601(entity.updatedAt))
        w.raw("record", masked.record)
        w.raw("provenance", MaskedView.provenance(entity.provenance))
        w.string("view", "masked")
        w.strings("masked_fields", masked.masked)
        return .jsonText(w.json)
    }

    /// Whose rejects `GET /v1/rejects` lists: any (or `?adapter=`) for an admin; an adapter's
    /// token sees only its own (`?adapter=` may name only itself).
    private func rejectsAdapter(_ request: Request) throws -> String? {
        let asked = request.query["adapter"]
        switch try auth.principal(for: request) {
        case .admin: return asked
        case .adapter(let own):
            guard asked == nil || asked == own else {
                throw HTTPError.forbidden("an adapter's token may list only its own rejects (?adapter=\(own))")
            }
            return own
        case .subscriber: throw HTTPError.forbidden("this endpoint is for the hub's admins and the adapter's own token")
        }
    }

    private func resourceName(_ request: Request) throws -> String {
        let name = try Query.path(request, "resource")
        guard let resource = ingest.registry.resource(named: name) else {
            throw HTTPError.notFound("no resource '\(name)' in the catalog")
        }
        return resource.name
    }

    static func write(outcome r: RecordOutcome, into w: inout JSONWriter) {
        w.string("position", r.position)
        w.string("source_key", r.sourceKey)
        w.string("status", r.status.rawValue)
        if !r.entities.isEmpty { w.strings("entities", r.entities) }
        if !r.problems.isEmpty {
            w.objects("problems", r.problems) { w, p in
                w.string("field", p.field)
                w.string("rule", p.rule)
                w.string("message", p.message)
                w.string("severity", p.severity)
            }
        }
    }

    static func write(event e: ChangeEvent, into w: inout JSONWriter) {
        w.number("position", e.position)
        w.string("resource", e.resource)
        w.string("entity_id", e.entityID)
        w.number("version", e.version)
        w.string("operation", e.operation)
        w.strings("changed_fields", e.changedFields)
        w.raw("record", e.record)
        w.raw("sources", e.sources)
        w.string("time", Timestamp.iso8601(e.time))
    }

    static func json(_ e: EntityView, versions: [Int]) -> String {
        var w = JSONWriter()
        w.string("id", e.id)
        w.string("resource", e.resource)
        w.string("identity_key", e.identityKey)
        w.number("version", e.version)
        w.raw("versions", "[" + versions.map(String.init).joined(separator: ",") + "]")
        w.string("updated_at", Timestamp.iso8601(e.updatedAt))
        w.raw("record", e.record)
        w.raw("provenance", e.provenance)
        return w.json
    }
}

/// Query-string arguments with checks that answer 400 naming the argument.
enum Query {
    /// A `{name}` segment of the route (the router only matches when it is there).
    static func path(_ request: Request, _ name: String) throws -> String {
        guard let value = request.pathParameters[name] else { throw HTTPError.badRequest("missing \(name) in the path") }
        return value
    }

    static func int64(_ request: Request, _ name: String, default value: Int64) throws -> Int64 {
        guard let text = request.query[name] else { return value }
        guard let n = Int64(text), n >= 0 else { throw HTTPError.badRequest("\(name) must be a whole number >= 0", code: "invalid_argument") }
        return n
    }

    static func optionalInt(_ request: Request, _ name: String, maximum: Int = Int(Int32.max)) throws -> Int? {
        guard let text = request.query[name] else { return nil }
        guard let n = Int(text), n >= 1, n <= maximum else {
            throw HTTPError.badRequest("\(name) must be a whole number from 1 to \(maximum)", code: "invalid_argument")
        }
        return n
    }

    /// `limit`, 100 by default, at most 1,000.
    static func limit(_ request: Request) throws -> Int {
        guard let text = request.query["limit"] else { return 100 }
        guard let n = Int(text), (1...1000).contains(n) else {
            throw HTTPError.badRequest("limit must be between 1 and 1000", code: "invalid_argument")
        }
        return n
    }

    static func choice(_ request: Request, _ name: String, _ choices: [String], default value: String) throws -> String {
        guard let text = request.query[name] else { return value }
        guard choices.contains(text) else {
            throw HTTPError.badRequest("\(name) must be one of \(choices.joined(separator: ", "))", code: "invalid_argument")
        }
        return text
    }
}
