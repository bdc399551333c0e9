import Feed
import Foundation
import HTTP
import Store
import Telemetry

/// Who calls a feed endpoint, as the hub's authenticator resolved the bearer token.
public enum FeedCaller: Sendable, Equatable {
    case admin
    case subscriber(String)
    case other
}

/// The feed's HTTP API: subscriptions (admin), pull and stream (subscribers), audit (admin).
/// Snapshot pages are served through `GET /v1/resources/{resource}` (see `snapshotResponse`).
/// The routes live in the Hub with its other routes; what they call (reading, projection,
/// streams, audit) is the Feed module's.
public struct FeedRoutes: Sendable {
    public let reader: FeedReader
    public let streams: FeedStreams
    public let notifier: ChangeNotifier
    let caller: @Sendable (Request) throws -> FeedCaller
    var subscriptions: SubscriptionStore { reader.subscriptions }
    /// Longest `wait` a long-poll may ask for, in seconds.
    public static let maxWait = 60.0

    public init(reader: FeedReader, streams: FeedStreams, notifier: ChangeNotifier,
                caller: @escaping @Sendable (Request) throws -> FeedCaller) {
        self.reader = reader
        self.streams = streams
        self.notifier = notifier
        self.caller = caller
    }

    public func register(on router: Router) {
        router.add(.POST, "/v1/subscriptions") { request in
            try requireAdmin(request)
            let created = try mapped { try subscriptions.create(try request.decodeJSON(SubscriptionSpec.self)) }
            var response = Response.jsonText(SubscriptionJSON.render(created.subscription, token: created.token), status: 201)
            response.headers.append(HTTPHeader("Location", "/v1/subscriptions/" + created.subscription.id))
            return response
        }
        router.add(.POST, "/v1/subscriptions/preview") { request in
            try requireAdmin(request)
            return .jsonText(SubscriptionPreview.render(try request.decodeJSON(SubscriptionSpec.self), validator: subscriptions.validator))
        }
        router.add(.GET, "/v1/subscriptions") { request in
            try requireAdmin(request)
            let list = try subscriptions.list()
            return .jsonText("{\"subscriptions\":[" + list.map { SubscriptionJSON.render($0) }.joined(separator: ",") + "]}")
        }
        router.add(.GET, "/v1/subscriptions/{id}") { request in
            try requireAdmin(request)
            guard let s = try subscriptions.get(request.pathParameters["id"] ?? "") else { throw HTTPError.notFound("no such subscription") }
            return .jsonText(SubscriptionJSON.render(s))
        }
        router.add(.PUT, "/v1/subscriptions/{id}") { request in
            try requireAdmin(request)
            let id = request.pathParameters["id"] ?? ""
            let s = try mapped { try subscriptions.update(id, try request.decodeJSON(SubscriptionSpec.self)) }
            return .jsonText(SubscriptionJSON.render(s))
        }
        router.add(.DELETE, "/v1/subscriptions/{id}") { request in
            try requireAdmin(request)
            try mapped { try subscriptions.delete(request.pathParameters["id"] ?? "") }
            return .noContent
        }
        router.add(.POST, "/v1/subscriptions/{id}/redeliver") { request in
            try requireAdmin(request)
            struct Body: Decodable { var after: Int64 }
            let body = try request.decodeJSON(Body.self)
            guard body.after >= 0 else { throw HTTPError.badRequest("after must be a position >= 0", code: "invalid_argument") }
            try mapped { try subscriptions.redeliver(request.pathParameters["id"] ?? "", after: body.after) }
            return .noContent
        }
        router.add(.GET, "/v1/feed") { request in try pull(request) }
        router.add(.GET, "/v1/feed/stream") { request in try stream(request) }
        router.add(.GET, "/v1/audit") { request in
            try requireAdmin(request)
            let after = try int64(request, "after", default: 0)
            let limit = try int64(request, "limit", default: 100)
            guard (1...1000).contains(limit) else { throw HTTPError.badRequest("limit must be between 1 and 1000", code: "invalid_argument") }
            let since = try time(request, "since"), until = try time(request, "until")
            let records = try reader.pool.withConnection {
                try AuditLog.query(actor: request.query["actor"], entityID: request.query["entity_id"], afterID: after, limit: Int(limit),
                                   since: since, until: until, in: $0)
            }
            return .jsonText("{\"entries\":[" + records.map(SubscriptionJSON.render).joined(separator: ",")
                             + "],\"next\":\(records.last?.id ?? after)}")
        }
    }

    /// `GET /v1/resources/{resource}?after=&limit=&position=` for a subscriber token: a snapshot page.
    public func snapshotResponse(_ request: Request, subscriptionID: String, resource: String) throws -> Response {
        let subscription = try activeSubscription(subscriptionID)
        let projector = reader.projector(for: subscription)
        let limit = try int64(request, "limit", default: 500)
        guard (1...5000).contains(limit) else { throw HTTPError.badRequest("limit must be between 1 and 5000", code: "invalid_argument") }
        // Pages after the first pass the first page's position back, so that all pages agree on it.
        let asOf = try request.query["position"].map { _ in try int64(request, "position", default: 0) }
        let page = try mapped {
            try reader.snapshot(projector, resource: resource, afterID: request.query["after"], limit: Int(limit), asOf: asOf)
        }
        if !page.records.isEmpty {
            var fields: [String] = []
            for r in page.records { for f in r.fields where !fields.contains(f) { fields.append(f) } }
            try reader.pool.withConnection {
                try AuditLog.append([AuditEntry(actor: subscription.auditActor, purpose: subscription.purpose, channel: .snapshot,
                                                firstPosition: page.position, lastPosition: page.position,
                                                entityIDs: page.records.map(\.entityID), fields: fields)], in: $0)
            }
        }
        var w = JSONBuilder(capacity: page.records.count * 400 + 100)
        w.string("resource", page.resource)
        w.number("position", page.position)
        var rows = "["
        for (i, r) in page.records.enumerated() {
            if i > 0 { rows += "," }
            rows += "{\"entity_id\":\"\(r.entityID)\",\"version\":\(r.version),\"record\":" + r.record + "}"
        }
        w.raw("records", rows + "]")
        w.string("next", page.next)
        return .jsonText(w.json)
    }

    // MARK: - Pull and stream

    private func pull(_ request: Request) throws -> Response {
        let subscription = try subscriber(request)
        let after = try int64(request, "after", default: 0)
        let limit = try int64(request, "limit", default: 100)
        guard (1...10_000).contains(limit) else { throw HTTPError.badRequest("limit must be between 1 and 10000", code: "invalid_argument") }
        let waitText = request.query["wait"] ?? "0"
        guard let wait = Double(waitText), wait >= 0, wait <= Self.maxWait else {
            throw HTTPError.badRequest("wait must be between 0 and \(Int(Self.maxWait)) seconds", code: "invalid_argument")
        }
        let ndjson = request.query["format"] == "ndjson" || (request.header("accept")?.contains("application/x-ndjson") ?? false)
        let projector = reader.projector(for: subscription)
        let reader = self.reader
        let first = try reader.page(projector, after: after, limit: Int(limit))
        if !first.events.isEmpty || wait == 0 {
            return try reader.audit(first.events, projector, channel: .pull) { Self.render(first, ndjson: ndjson) }
        }
        let notifier = self.notifier
        let deadline = DispatchTime.now() + wait
        return .deferred { completion in
            let poll = LongPoll(completion: completion)
            @Sendable func attempt(after: Int64) {
                do {
                    let page = try reader.page(projector, after: after, limit: Int(limit))
                    if !page.events.isEmpty || DispatchTime.now() >= deadline {
                        guard poll.finish() else { return }
                        completion.complete(try reader.audit(page.events, projector, channel: .pull) { Self.render(page, ndjson: ndjson) })
                        return
                    }
                    poll.setCursor(page.next)
                    poll.setToken(notifier.whenPast(page.next) { _ in attempt(after: page.next) })
                } catch {
                    if poll.finish() { completion.fail(Self.httpError(error)) }
                }
            }
            poll.setCursor(first.next)
            poll.setToken(notifier.whenPast(first.next) { _ in attempt(after: first.next) })
            DispatchQueue.global().asyncAfter(deadline: deadline) {
                guard let token = poll.token else { return }
                notifier.cancel(token)
                if poll.isPending { attempt(after: poll.cursor) }
            }
            completion.onCancel {
                if let token = poll.token { notifier.cancel(token) }
                _ = poll.finish()
            }
        }
    }

    private func stream(_ request: Request) throws -> Response {
        let subscription = try subscriber(request)
        var cursor = try int64(request, "after", default: 0)
        if let last = request.header("last-event-id"), !last.isEmpty {
            guard let p = Int64(last.trimmingCharacters(in: .whitespaces)), p >= 0 else {
                throw HTTPError.badRequest("Last-Event-ID must be a feed position", code: "invalid_argument")
            }
            cursor = p
        }
        let stream = streams.open(subscription, after: cursor)
        return Response.stream(stream, contentType: "text/event-stream")
            .withHeader("Cache-Control", "no-cache")
    }

    // MARK: - Helpers

    /// The pull body, written from each event's bytes into one buffer (no String per page).
    static func render(_ page: FeedPage, ndjson: Bool) -> Response {
        var size = 32
        for e in page.events { size += e.bytes.count + 1 }
        var body: [UInt8] = []
        body.reserveCapacity(size)
        if ndjson {
            for e in page.events {
                body.append(contentsOf: e.bytes)
                body.append(UInt8(ascii: "\n"))
            }
            return Response(status: 200, headers: [HTTPHeader("Content-Type", "application/x-ndjson"),
                                                   HTTPHeader("RecordOnce-Next-Position", String(page.next))],
                            body: .bytes(body))
        }
        body.append(contentsOf: "{\"events\":[".utf8)
        for (i, e) in page.events.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: e.bytes)
        }
        body.append(contentsOf: "],\"next\":\(page.next)}".utf8)
        return Response(status: 200, headers: [HTTPHeader("Content-Type", "application/json"),
                                               HTTPHeader("RecordOnce-Next-Position", String(page.next))],
                        body: .bytes(body))
    }

    private func requireAdmin(_ request: Request) throws {
        guard try caller(request) == .admin else { throw HTTPError.forbidden("this endpoint is for the hub's admins") }
    }

    private func subscriber(_ request: Request) throws -> Subscription {
        guard case .subscriber(let id) = try caller(request) else {
            throw HTTPError.forbidden("this endpoint is for subscriber tokens")
        }
        return try activeSubscription(id)
    }

    private func activeSubscription(_ id: String) throws -> Subscription {
        guard let s = try subscriptions.get(id) else { throw HTTPError.forbidden("the subscription was removed") }
        guard s.status == .active else { throw HTTPError.forbidden("the subscription is \(s.status.rawValue)") }
        return s
    }

    /// An ISO 8601 time argument (`2026-12-04T15:00:00Z`), nil when absent.
    private func time(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.query[name], !text.isEmpty else { return nil }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) else {
            throw HTTPError.badRequest("\(name) must be an ISO 8601 time such as 2026-12-04T15:00:00Z", code: "invalid_argument")
        }
        return date
    }

    private func int64(_ request: Request, _ name: String, default value: Int64) throws -> Int64 {
        guard let text = request.query[name] else { return value }
        guard let n = Int64(text), n >= 0 else { throw HTTPError.badRequest("\(name) must be a whole number >= 0", code: "invalid_argument") }
        return n
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw Self.httpError(error) }
    }

    static func httpError(_ error: any Error) -> any Error {
        switch error {
        case let invalid as SubscriptionInvalid:
            return HTTPError(status: 400, code: "invalid_subscription", message: invalid.description)
        case let e as FeedError:
            switch e.kind {
            case .notFound: return HTTPError.notFound(e.message)
            case .invalid: return HTTPError.badRequest(e.message, code: "invalid_argument")
            case .forbidden: return HTTPError.forbidden(e.message)
            case .conflict: return HTTPError(status: 409, code: "conflict", message: e.message)
            }
        default: return error
        }
    }
}

/// The shared state of one long-poll: which waiter token is live and whether it was answered.
final class LongPoll: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var currentToken: Int?
    private var currentCursor: Int64 = 0
    let completion: ResponseCompletion

    init(completion: ResponseCompletion) { self.completion = completion }

    var token: Int? { lock.withLock { currentToken } }
    var cursor: Int64 { lock.withLock { currentCursor } }
    var isPending: Bool { lock.withLock { !done } }
    func setToken(_ t: Int) { lock.withLock { currentToken = t } }
    func setCursor(_ c: Int64) { lock.withLock { currentCursor = c } }

    /// True for the first caller only: that one answers.
    func finish() -> Bool {
        lock.withLock {
            if done { return false }
            done = true
            return true
        }
    }
}

extension FeedService {
    /// Registers the feed's routes; `caller` resolves a request's bearer token.
    public func routes(caller: @escaping @Sendable (Request) throws -> FeedCaller) -> FeedRoutes {
        FeedRoutes(reader: reader, streams: streams, notifier: notifier, caller: caller)
    }
}
