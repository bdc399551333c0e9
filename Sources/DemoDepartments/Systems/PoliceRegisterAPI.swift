import Foundation
import HTTP
import Telemetry

/// The police household register (公安人口户籍系统) as a paged REST API:
///
/// `GET /api/hukou/persons?updated_since=2026-11-22T10:00:00.000%2B08:00&page=1&page_size=500`
/// with `Authorization: Bearer <token>`. Rows whose `GXSJ` (last change) is at or after
/// `updated_since` come in change order; pages by `page` (1-based), `offset`, or `cursor` (the
/// `data.next_cursor` of the previous answer: keyset, nothing shifts). The answer:
/// `{"code":0,"message":"ok","data":{"total":N,"page":P,"page_size":S,"items":[...],
/// "next_cursor":"c..."|null},"links":{"next":"/api/hukou/persons?..."|null}}`.
public final class PoliceRegisterAPI: @unchecked Sendable {
    /// The register's rows, keyed by person index.
    public let table: ChangeStampedTable
    public let faults = DemoFaults()
    public let service: DepartmentHTTPService
    let token: String?
    /// The largest page the API hands out.
    public static let maximumPageSize = 1000
    public static let path = "/api/hukou/persons"

    init(table: ChangeStampedTable, host: String, port: Int, token: String?, logger: Logger) {
        self.table = table
        self.token = token
        let router = Router()
        service = DepartmentHTTPService(host: host, port: port, router: router, logger: logger)
        router.add(.GET, Self.path) { [weak self] request in self?.persons(request) ?? Self.error(503, "register stopped") }
    }

    /// The URL of the persons list (no query).
    public var personsURL: String { service.baseURL + Self.path }

    func persons(_ request: Request) -> Response {
        if let token, request.header("Authorization") != "Bearer " + token {
            return Self.error(401, "missing or wrong bearer token")
        }
        switch faults.take(where: { if case .changeUnderCursor = $0 { false } else { true } }) {
        case .unavailable(let after)?:
            let response = Self.error(503, "register under maintenance")
            return after.map { response.withHeader("Retry-After", String($0)) } ?? response
        case .tooManyRequests(let after)?:
            return Self.error(429, "too many requests").withHeader("Retry-After", String(after))
        case .unauthorized?:
            return Self.error(401, "token expired")
        case .wrongEncoding?:
            var response = answer(request)
            if case .bytes(let bytes) = response.body,
               let data = String(decoding: bytes, as: UTF8.self).data(using: String.Encoding(rawValue: 0x8000_0632)) {
                response.body = .bytes(Array(data))
            }
            return response
        case .truncatedBody?:
            var response = answer(request)
            if case .bytes(let bytes) = response.body { response.body = .bytes(Array(bytes.prefix(bytes.count / 2))) }
            return response
        default:
            return answer(request)
        }
    }

    private func answer(_ request: Request) -> Response {
        let query = request.query
        var since: Int64?
        if let text = query["updated_since"], !text.isEmpty {
            guard let ms = StampText.milliseconds(text) else { return Self.error(400, "updated_since is not a time stamp") }
            since = ms
        }
        var after: Int64?
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard cursor.hasPrefix("c"), let ms = Int64(cursor.dropFirst()) else { return Self.error(400, "cursor is not one this API issued") }
            after = ms
        }
        let size = min(Self.maximumPageSize, max(1, Int(query["page_size"] ?? "") ?? 100))
        let page = max(1, Int(query["page"] ?? "") ?? 1)
        let offset = max(0, Int(query["offset"] ?? "") ?? (page - 1) * size)
        if offset > 0 || after != nil, case .changeUnderCursor(let count)? = faults.take(where: { if case .changeUnderCursor = $0 { true } else { false } }) {
            for key in table.firstKeys(sinceAtLeast: since ?? 0, count: count) { table.update(key) { _ in } }
        }
        let (entries, total) = table.page(sinceAtLeast: since, after: after, offset: after == nil ? offset : 0, limit: size)
        let more = entries.count == size && (after == nil ? offset + size < total : size < total)
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 600 + 256)
        out.append(contentsOf: "{\"code\":0,\"message\":\"ok\",\"data\":{\"total\":\(total),\"page\":\(page),\"page_size\":\(size),\"items\":[".utf8)
        for (i, entry) in entries.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            RecordEncoding.appendJSON(entry.record.fields + [SourceField("GXSJ", ChangeClock.iso(entry.stamp))], to: &out)
        }
        out.append(contentsOf: "],\"next_cursor\":".utf8)
        let cursor = more ? entries.last.map { "c\($0.stamp)" } : nil
        if let cursor { RecordEncoding.appendJSONString(cursor, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: "},\"links\":{\"next\":".utf8)
        if let cursor {
            var link = Self.path + "?page_size=\(size)&cursor=\(cursor)"
            if let text = query["updated_since"] { link += "&updated_since=" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text) }
            RecordEncoding.appendJSONString(link, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: "}}".utf8)
        return .bytes(out, contentType: "application/json; charset=utf-8")
    }

    static func error(_ status: Int, _ message: String) -> Response {
        .jsonText("{\"code\":\(status),\"message\":\"\(message)\"}", status: status)
    }
}
