import Foundation
import Testing
@testable import Hub
import Secrets
import Store

@Suite struct HubTests {
    @Test func probesAnswer() async throws {
        let hub = try TestHub()
        #expect(try await httpRequest(hub.base + "/healthz").status == 200)
        let ready = try await httpRequest(hub.base + "/readyz")
        #expect(ready.status == 200)
        #expect(try ready.json()["status"] as? String == "ready")
        let version = try await httpRequest(hub.base + "/version")
        #expect(try version.json()["version"] as? String == BuildInfo.version)
        let metrics = try await httpRequest(hub.base + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(metrics.text.contains("recordonce_db_pool_connections{state=\"max\"} 4"))
        #expect(metrics.text.contains("http_requests_total"))
        #expect(metrics.text.contains("http_request_duration_seconds_bucket"))
    }

    @Test func unknownRouteIsJSON404() async throws {
        let hub = try TestHub()
        let response = try await httpRequest(hub.base + "/no/such/thing")
        #expect(response.status == 404)
        let error = try #require(response.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "not_found")
    }

    @Test func adminTokenIsGeneratedOnceAndStoredOnlyAsAHash() throws {
        let hub = try TestHub()
        let token = hub.adminToken
        #expect(token.hasPrefix("ro_admin_"))
        let attributes = try FileManager.default.attributesOfItem(atPath: hub.folder + "/admin.token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let rows = try hub.hub.pool.withConnection { try $0.query("SELECT token_hash FROM api_tokens WHERE kind = 'admin'").rows }
        #expect(rows.count == 1)
        #expect(rows[0]["token_hash"] == PostgresBytes(Secrets.sha256(token)).postgresText)
        #expect(!(rows[0]["token_hash"] ?? "").contains(token))

        // A second hub on the same database neither makes nor writes another token.
        let url = hub.hub.databaseURL
        let second = try TestHub(databaseURL: url)
        #expect(!FileManager.default.fileExists(atPath: second.folder + "/admin.token"))
        #expect(try hub.hub.pool.withConnection { try $0.query("SELECT count(*) AS n FROM api_tokens").first?["n"] } == "1")
    }

    @Test func configuredAdminTokenReplacesTheGeneratedOne() async throws {
        let first = try TestHub()
        let generated = first.adminToken
        let url = first.hub.databaseURL
        let fixed = "ro_admin_fixed-for-this-test"
        let second = try TestHub(adminToken: fixed, databaseURL: url)
        let auth = Authenticator(pool: second.hub.pool)
        func request(_ token: String) -> HTTP.Request {
            HTTP.Request(method: .GET, path: "/", headers: HTTPHeaders([HTTPHeader("Authorization", "Bearer \(token)")]))
        }
        #expect(try auth.principal(for: request(fixed)) == .admin)
        #expect(throws: HTTPError.self) { try auth.principal(for: request(generated)) }
        #expect(throws: HTTPError.self) { try auth.principal(for: HTTP.Request(method: .GET, path: "/")) }
    }

    @Test func readinessFollowsTheDatabaseWithoutARestart() async throws {
        let hub = try TestHub(embedded: true)
        #expect(try await httpRequest(hub.base + "/readyz").status == 200)
        try hub.hub.embeddedDatabase!.stopServerForTesting()
        let down = try await httpRequest(hub.base + "/readyz")
        #expect(down.status == 503)
        #expect(try down.json()["status"] as? String == "unavailable")
        let reason = try down.json()["reason"] as? String ?? ""
        #expect(reason.hasPrefix("database unreachable") && !reason.contains("/"), "readyz names a path: \(reason)")
        #expect(try await httpRequest(hub.base + "/healthz").status == 200)
        try hub.hub.embeddedDatabase!.startServerForTesting()
        #expect(try await httpRequest(hub.base + "/readyz").status == 200)
    }

    @Test func anUnusableDatabaseURLIsAClearStartError() throws {
        var config = HubConfiguration()
        config.port = 0
        config.databaseURL = "postgresql:///x?host=/tmp/no-such-socket-folder&connect_timeout=2"
        config.dataDirectory = try temporaryFolder()
        let hub = Hub(configuration: config, logger: .silent)
        #expect(throws: (any Error).self) { try hub.start() }
    }
}

import HTTP
