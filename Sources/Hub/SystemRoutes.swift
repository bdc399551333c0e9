import Foundation
import HTTP
import Store
import Telemetry

/// Liveness, readiness, version and metrics: the endpoints operators and orchestrators poll.
struct SystemRoutes {
    let pool: ConnectionPool
    let migrator: Migrator
    let metrics: MetricsRegistry
    /// The embedded cluster's supervisor, whose restarts readiness reports.
    let supervisor: EmbeddedPostgresSupervisor?
    /// A feed node's streaming replica (`--feed-database-url`); nil when the feed reads the primary.
    var feedPool: ConnectionPool? = nil

    func register(on router: Router) {
        router.add(.GET, "/healthz") { _ in
            Response.jsonText(#"{"status":"ok"}"#)
        }
        router.add(.GET, "/readyz") { _ in
            readiness()
        }
        router.add(.GET, "/version") { _ in
            Response.jsonText(#"{"name":"\#(BuildInfo.name)","version":"\#(BuildInfo.version)"}"#)
        }
        let openAPI = Self.openAPIDocument
        router.add(.GET, "/openapi.json") { _ in
            Response.bytes(openAPI, contentType: "application/json")
        }
        router.add(.GET, "/metrics") { _ in
            Response.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    /// docs/openapi.json, bundled with the binary.
    static let openAPIDocument: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return Array(#"{"error":"openapi.json missing from the build"}"#.utf8) }
        return Array(data)
    }()

    /// 200 when the database answers and every migration is applied, 503 (with the reason) otherwise.
    /// A pooled connection broken by a database restart means every idle one is: they are dropped
    /// and the check is tried once more on a fresh connection.
    func readiness() -> Response {
        if case .restarting(let attempts)? = supervisor?.state {
            return unavailable("embedded database restarting after a crash (\(attempts) failed attempts so far)")
        }
        var lastError: (any Error)?
        for _ in 0..<2 {
            do {
                let pending = try pool.withConnection { try migrator.pending($0) }
                guard pending.isEmpty else {
                    return unavailable("migrations pending: \(pending.joined(separator: ", "))")
                }
                guard let feedPool else { return Response.jsonText(#"{"status":"ready","database":"ok"}"#) }
                return feedReadiness(feedPool)
            } catch let error as PostgresError where error.isRetriable {
                lastError = error
                pool.discardIdle()
            } catch {
                lastError = error
                break
            }
        }
        return unavailable("database unreachable: " + Self.withoutPaths(lastError.map { String(describing: $0) } ?? "unknown"))
    }

    /// The text with every filesystem path (a socket folder in libpq's messages) replaced by
    /// `<path>`: /readyz is public, and the data folder's location is nobody's business.
    static func withoutPaths(_ text: String) -> String {
        var out = ""
        var inPath = false
        var previous: Character = " "
        for c in text {
            if inPath {
                if c == " " || c == "\"" || c == "'" || c == "," || c == ")" {
                    inPath = false
                    out.append(c)
                }
            } else if c == "/" && (previous == " " || previous == "\"" || previous == "'" || previous == "(" || previous == "=") {
                inPath = true
                out += "<path>"
            } else {
                out.append(c)
            }
            previous = c
        }
        return out
    }

    /// A feed node is ready only while its replica answers (it serves the feed from there), and
    /// says how far the replica's head is (`feed_position`).
    private func feedReadiness(_ feedPool: ConnectionPool) -> Response {
        var lastError: (any Error)?
        for _ in 0..<2 {
            do {
                let head = try feedPool.withConnection { try ChangeLog.head($0) }
                return Response.jsonText(#"{"status":"ready","database":"ok","feed_database":"ok","feed_position":\#(head)}"#)
            } catch {
                lastError = error
            }
        }
        return unavailable("feed database unreachable: \(lastError.map { String(describing: $0) } ?? "unknown")")
    }

    private func unavailable(_ reason: String) -> Response {
        Response.jsonText(#"{"status":"unavailable","reason":\#(JSONText.quote(reason))}"#, status: 503)
    }
}
