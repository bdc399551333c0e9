import Foundation
import HTTP
import Store
import Telemetry

/// Liveness, readiness, version and metrics: the endpoints operators and orchestrators poll.
struct SystemRoutes {
    let pool: ConnectionPool
    let migrator: Migrator
    let metrics: MetricsRegistry

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
    /// A pooled connection broken by a database restart is retried once on a fresh one.
    func readiness() -> Response {
        var lastError: (any Error)?
        for _ in 0..<2 {
            do {
                let pending = try pool.withConnection { try migrator.pending($0) }
                guard pending.isEmpty else {
                    return unavailable("migrations pending: \(pending.joined(separator: ", "))")
                }
                return Response.jsonText(#"{"status":"ready","database":"ok"}"#)
            } catch let error as PostgresError where error.isRetriable {
                lastError = error
            } catch {
                lastError = error
                break
            }
        }
        return unavailable("database unreachable: \(lastError.map { String(describing: $0) } ?? "unknown")")
    }

    private func unavailable(_ reason: String) -> Response {
        Response.jsonText(#"{"status":"unavailable","reason":\#(JSONText.quote(reason))}"#, status: 503)
    }
}
