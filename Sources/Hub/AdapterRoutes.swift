import Adapters
import Foundation
import HTTP
import JSON5
import Telemetry

/// `/v1/adapters`: register, change, pause, resume, run, rewind and remove adapters, and issue
/// department tokens. Admin only, except that an adapter's own token may read that adapter.
struct AdapterRoutes {
    let registrations: AdapterRegistrations
    let auth: Authenticator
    /// Wakes this process's scheduler (a run was requested or an adapter registered).
    let wake: @Sendable () -> Void

    var store: AdapterRunStore { registrations.store }

    func register(on router: Router) {
        router.add(.GET, "/v1/adapters") { request in
            try auth.requireAdmin(request)
            let all = try store.all()
            return .jsonText("{\"adapters\":[" + all.map(json).joined(separator: ",") + "]}")
        }
        router.add(.POST, "/v1/adapters") { request in
            try auth.requireAdmin(request)
            let adapter: RegisteredAdapter
            do { (adapter, _) = try save(request, expectedID: nil, replace: false) } catch let failure as ValidationFailure {
                return failure.response
            }
            wake()
            return .jsonText(try statusJSON(adapter.declaration.id), status: 201)
        }
        router.add(.GET, "/v1/adapters/{id}") { request in
            let id = try Query.path(request, "id")
            try auth.requireAdminOrAdapter(request, id)
            return .jsonText(try statusJSON(id))
        }
        router.add(.PUT, "/v1/adapters/{id}") { request in
            try auth.requireAdmin(request)
            let adapter: RegisteredAdapter
            let result: AdapterRunStore.SaveResult
            do { (adapter, result) = try save(request, expectedID: try Query.path(request, "id"), replace: true) } catch let failure as ValidationFailure {
                return failure.response
            }
            wake()
            return .jsonText(try statusJSON(adapter.declaration.id), status: result == .created ? 201 : 200)
        }
        router.add(.DELETE, "/v1/adapters/{id}") { request in
            try auth.requireAdmin(request)
            let id = try Query.path(request, "id")
            guard try registrations.remove(id: id) else { throw HTTPError.notFound("no adapter '\(id)'") }
            return .noContent
        }
        for (action, perform) in [("pause", store.pause), ("resume", store.resume), ("run", store.requestRun)] {
            router.add(.POST, "/v1/adapters/{id}/\(action)") { request in
                try auth.requireAdmin(request)
                let id = try Query.path(request, "id")
                do {
                    guard try perform(id) else { throw HTTPError.notFound("no adapter '\(id)'") }
                } catch let refused as AdapterRunStore.ActionRefused {
                    throw HTTPError.conflict(refused.description)
                }
                if action != "pause" { wake() }
                return .jsonText(try statusJSON(id), status: action == "run" ? 202 : 200)
            }
        }
        router.add(.PUT, "/v1/adapters/{id}/checkpoint") { request in
            try auth.requireAdmin(request)
            let id = try Query.path(request, "id")
            let value: JSONValue
            do { value = try JSON5.parseJSON(request.body, file: "body") } catch {
                throw HTTPError.badRequest("the body is not JSON: \(error)", code: "invalid_json")
            }
            guard let object = value.objectValue, let member = object["checkpoint"], member.isNull || member.stringValue != nil else {
                throw HTTPError.badRequest("send {\"checkpoint\": \"...\"} to rewind to a checkpoint, or {\"checkpoint\": null} to start over",
                                           code: "invalid_checkpoint")
            }
            do {
                guard try store.setCheckpoint(id: id, to: member.stringValue) else { throw HTTPError.notFound("no adapter '\(id)'") }
            } catch let refused as AdapterRunStore.ActionRefused {
                throw HTTPError.conflict(refused.description)
            }
            wake()
            return .jsonText(try statusJSON(id))
        }
        router.add(.POST, "/v1/adapters/{id}/token") { request in
            try auth.requireAdmin(request)
            let id = try Query.path(request, "id")
            guard try store.status(id: id) != nil else { throw HTTPError.notFound("no adapter '\(id)'") }
            let token = try registrations.issueToken(id: id)
            var w = JSONWriter()
            w.string("adapter", id)
            w.string("token", token)
            w.string("note", "shown once: only its hash is kept; push with Authorization: Bearer <token>")
            return .jsonText(w.json, status: 201)
        }
    }

    private func save(_ request: Request, expectedID: String?, replace: Bool) throws -> (RegisteredAdapter, AdapterRunStore.SaveResult) {
        do {
            return try registrations.register(request.body, expectedID: expectedID, replace: replace)
        } catch let invalid as AdapterRegistrations.Invalid {
            throw ValidationFailure(problems: invalid.problems)
        } catch let conflict as AdapterRegistrations.Conflict {
            throw HTTPError.conflict(conflict.description)
        }
    }

    private func statusJSON(_ id: String) throws -> String {
        guard let status = try store.status(id: id) else { throw HTTPError.notFound("no adapter '\(id)'") }
        return json(status)
    }

    func json(_ s: AdapterStatus) -> String {
        let registered = registrations.registry.adapter(s.id)
        let declaration = registered?.declaration
        var w = JSONWriter()
        w.string("id", s.id)
        w.string("department", declaration?.department)
        w.string("description", declaration?.description)
        w.string("mapping", declaration?.mapping)
        w.string("origin", s.origin)
        w.string("file", s.file)
        w.number("revision", s.revision)
        if let kind = s.pullKind {
            var pull = JSONWriter()
            pull.string("kind", kind)
            pull.raw("every_seconds", s.pullEvery.map { String($0) } ?? "null")
            w.raw("pull", pull.json)
        } else {
            w.raw("pull", "null")
        }
        w.string("state", s.state.rawValue)
        w.raw("running_now", s.isRunningNow ? "true" : "false")
        w.string("lease_owner", s.isRunningNow ? s.leaseOwner : nil)
        w.string("next_run_at", s.nextRunAt.map(Timestamp.iso8601))
        w.string("last_run_at", s.lastRunAt.map(Timestamp.iso8601))
        w.string("last_success_at", s.lastSuccessAt.map(Timestamp.iso8601))
        w.string("last_error", s.lastError)
        w.string("last_error_at", s.lastErrorAt.map(Timestamp.iso8601))
        w.number("failures", s.failures)
        w.number("runs", s.runs)
        w.string("checkpoint", s.checkpoint)
        w.string("checkpoint_at", s.checkpointAt.map(Timestamp.iso8601))
        var counters = JSONWriter()
        counters.number("records_in", s.counts.records)
        counters.number("accepted", s.counts.accepted)
        counters.number("unchanged", s.counts.unchanged)
        counters.number("rejected", s.counts.rejected)
        counters.number("skipped", s.counts.skipped)
        w.raw("counters", counters.json)
        w.raw("lag_seconds", s.lagSeconds.map { String(format: "%.3f", $0) } ?? "null")
        w.strings("mapping_problems", registered?.problems ?? [])
        w.string("declaration", s.declaration)
        return w.json
    }
}

/// 422 with every problem of a declaration, each attached to its field (returned, not thrown:
/// the server renders only `HTTPError`s it is thrown).
struct ValidationFailure: Error {
    let problems: [AdapterProblem]

    var response: Response {
        var w = JSONWriter()
        w.string("code", "invalid_adapter")
        w.string("message", "the adapter declaration has \(problems.count) problem(s)")
        w.objects("problems", problems) { w, p in
            w.string("path", p.path)
            w.number("line", p.position?.line)
            w.number("column", p.position?.column)
            w.string("message", p.message)
        }
        return .jsonText("{\"error\":" + w.json + "}", status: 422)
    }
}
