import Foundation
import Store
import Testing
@testable import Hub

/// `recordonce db init-roles`, `db backup` and `db restore`, run as the built binary against real
/// clusters: the run's cluster (as an external database) and embedded clusters of their own.
@Suite(.serialized) struct DatabaseRolesAndBackupTests {
    static let pushToken = "police-push-token-roles"
    static let admin = "ro_admin_roles_and_backup_tests"

    static func hub(databaseURL: String? = nil, embedded: Bool = false, beforeStart: (String) throws -> Void = { _ in }) throws -> TestHub {
        try TestHub(embedded: embedded, adminToken: admin, databaseURL: databaseURL, adapters: [
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { file: "police.token" } }"#,
        ], beforeStart: { folder in
            try pushToken.write(toFile: folder + "/adapters/police.token", atomically: true, encoding: .utf8)
            try beforeStart(folder)
        })
    }

    /// The same URL, connecting as `role` instead.
    static func url(_ url: String, as role: String) -> String {
        var components = URLComponents(string: url)!
        if let items = components.queryItems, items.contains(where: { $0.name == "user" }) {
            components.queryItems = items.map { $0.name == "user" ? URLQueryItem(name: "user", value: role) : $0 }
        } else {
            components.user = role
            components.password = nil
        }
        return components.string!
    }

    static var sample: Data { FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/police-hukou.json")! }

    /// A police page of `count` new people from `start` (each their own household).
    static func people(_ start: Int, _ count: Int) -> Data {
        Data(DatabaseSupervisionTests.page((start..<start + count).map(DatabaseSupervisionTests.person)))
    }

    static func push(_ hub: TestHub, _ body: Data) async throws -> [String: Any] {
        let response = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: pushToken, body: body)
        #expect(response.status == 200, "\(response.text)")
        return try response.json()
    }

    static func subscribe(_ hub: TestHub, name: String) async throws -> String {
        let spec: [String: Any] = ["name": name, "purpose": "community services (statutory duty)", "resources": ["Person"]]
        let response = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: admin,
                                             body: try JSONSerialization.data(withJSONObject: spec))
        #expect(response.status == 201, "\(response.text)")
        return try response.json()["token"] as? String ?? ""
    }

    /// The feed positions a subscriber gets after `after`.
    static func feed(_ hub: TestHub, token: String, after: Int64, limit: Int = 1000) async throws -> [Int64] {
        let response = try await httpRequest(hub.base + "/v1/feed?after=\(after)&limit=\(limit)", token: token)
        #expect(response.status == 200, "\(response.text)")
        return (try response.json()["events"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
    }

    // MARK: roles

    @Test func theRuntimeRoleRunsTheHubButCannotChangeTheChangeLogOrTheAuditLog() async throws {
        let url = try TestDatabase.fresh()
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let owner = "ro_owner_" + suffix, runtime = "ro_runtime_" + suffix
        let run = try Binary.run(["db", "init-roles", "--database-url", url, "--owner-role", owner, "--runtime-role", runtime],
                                 environment: ["RECORDONCE_RUNTIME_PASSWORD": "runtime-secret", "RECORDONCE_OWNER_PASSWORD": "owner-secret"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("roles ready"))
        // Running it again (after an upgrade, a restore) changes nothing and fails nothing.
        let again = try Binary.run(["db", "init-roles", "--database-url", url, "--owner-role", owner, "--runtime-role", runtime])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")

        // A hub running as the runtime role: push, read, feed.
        let runtimeURL = Self.url(url, as: runtime)
        let hub = try Self.hub(databaseURL: runtimeURL)
        #expect(try await httpRequest(hub.base + "/readyz").status == 200)
        let pushed = try await Self.push(hub, Self.sample)
        #expect((pushed["events"] as? Int ?? 0) > 0)
        let list = try await httpRequest(hub.base + "/v1/resources/Person?key=510108196503140114", token: Self.admin)
        #expect(list.status == 200, "\(list.text)")
        let token = try await Self.subscribe(hub, name: "Roles test")
        #expect(try await Self.feed(hub, token: token, after: 0).count > 0)
        let purge = try PostgresConnection(url: runtimeURL).query("SELECT audit_log_purge(1) AS removed")
        #expect(purge[0]["removed"] == "0")

        let admin = try PostgresConnection(url: url)
        func counts() throws -> [String?] {
            let row = try admin.query("SELECT (SELECT count(*) FROM audit_log) AS a, (SELECT count(*) FROM change_log) AS c, (SELECT position FROM change_log_head) AS h").rows[0]
            return [row[0], row[1], row[2]]
        }
        let before = try counts()
        #expect(before[0] != "0" && before[1] != "0")
        let connection = try PostgresConnection(url: runtimeURL)
        for statement in [
            "UPDATE audit_log SET purpose = 'rewritten'", "DELETE FROM audit_log", "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update", "ALTER TABLE audit_log ADD COLUMN note text", "DROP TABLE audit_log",
            "UPDATE change_log SET operation = operation", "DELETE FROM change_log", "TRUNCATE change_log",
            "ALTER TABLE change_log DROP COLUMN record", "DROP TABLE change_log", "CREATE TABLE shadow (v int)",
        ] {
            do {
                try connection.executeScript(statement)
                Issue.record("the runtime role was allowed to: \(statement)")
            } catch {
                #expect(error.sqlState == "42501", "\(statement): \(error)")
            }
        }
        #expect(try counts() == before)

        // A migration the runtime role may not apply: a start error that says what to run.
        try admin.executeScript("DELETE FROM schema_migrations WHERE id = '0010_audit_purge_function'")
        let refused = #expect(throws: HubError.self) { _ = try Self.hub(databaseURL: runtimeURL) }
        #expect(refused?.description.contains("recordonce db migrate") == true, "\(String(describing: refused))")
    }

    @Test func printSQLShowsTheStepsWithoutPasswords() throws {
        let run = try Binary.run(["db", "init-roles", "--print-sql"], environment: ["RECORDONCE_RUNTIME_PASSWORD": "do-not-print-me"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("REVOKE UPDATE, DELETE, TRUNCATE ON change_log, audit_log FROM \"recordonce_runtime\""))
        #expect(!run.stdout.contains("do-not-print-me"))
        #expect(try Binary.run(["db", "backup", "--help"]).stdout.contains("pg_dump"))
        #expect(try Binary.run(["db", "restore", "--help"]).stdout.contains("empty database"))
    }

    // MARK: backup and restore

    /// Every table whose content a restore must bring back exactly.
    static func contents(_ url: String) throws -> [String: [String]] {
        let c = try PostgresConnection(url: url)
        var out: [String: [String]] = [:]
        for table in ["entities", "entity_versions", "change_log", "change_log_head", "landing", "rejects", "conflicts",
                      "subscriptions", "audit_log", "adapter_checkpoints", "schema_migrations"] {
            out[table] = try c.query("SELECT t::text AS row FROM \(table) t ORDER BY 1").rows.map { $0[0] ?? "" }
        }
        out["webhook_deliveries"] = try c.query("SELECT subscription_id || ' ' || position AS row FROM webhook_deliveries ORDER BY 1").rows.map { $0[0] ?? "" }
        return out
    }

    @Test func backupThenRestoreIntoAFreshClusterKeepsEverythingAndSubscribersContinue() async throws {
        let folder = try temporaryFolder("ro-backup")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Load an external database: pushes, a subscriber that has read part of the feed, a webhook subscription.
        let sourceURL = try TestDatabase.fresh()
        let source = try Self.hub(databaseURL: sourceURL)
        _ = try await Self.push(source, Self.sample)
        _ = try await Self.push(source, Self.people(50_000, 20))
        let token = try await Self.subscribe(source, name: "Community platform")
        let firstRead = try await Self.feed(source, token: token, after: 0, limit: 5)
        #expect(firstRead.count == 5)
        let resumeAt = firstRead.last!
        let stillToRead = try await Self.feed(source, token: token, after: resumeAt)
        #expect(!stillToRead.isEmpty)
        // Paused: a delivery attempt (audited) must not land between the backup and the comparison.
        let webhook: [String: Any] = ["name": "Grid app", "purpose": "grid work", "resources": ["Person"], "status": "paused",
                                      "delivery": ["mode": "webhook", "url": "http://127.0.0.1:9/hook"]]
        let created = try await httpRequest(source.base + "/v1/subscriptions", method: "POST", token: Self.admin,
                                            body: try JSONSerialization.data(withJSONObject: webhook))
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["status"] as? String == "paused")
        let expected = try Self.contents(sourceURL)
        #expect(expected["audit_log"]!.count >= 2)

        // External database -> file -> the embedded cluster of a new data folder.
        let file = folder + "/hub.dump"
        let backup = try Binary.run(["db", "backup", file, "--database-url", sourceURL, "--log-level", "error"])
        #expect(backup.status == 0, "\(backup.stdout)\(backup.stderr)")
        let restored = try Self.hub(embedded: true, beforeStart: { dataDirectory in
            let restore = try Binary.run(["db", "restore", file, "--data-dir", dataDirectory, "--log-level", "error"])
            #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
        })
        let restoredContents = try Self.contents(restored.hub.databaseURL)
        for (table, rows) in expected { #expect(restoredContents[table] == rows, "\(table) differs after the restore") }

        // The subscriber continues from its position on the restored hub, and new events follow on.
        #expect(try await Self.feed(restored, token: token, after: resumeAt) == stillToRead)
        let head = stillToRead.last!
        let sourceHead = try PostgresConnection(url: sourceURL).query("SELECT position FROM change_log_head")[0].decode(Int64.self, "position")
        _ = try await Self.push(restored, Self.people(60_000, 3))
        let next = try await Self.feed(restored, token: token, after: head)
        #expect(next.count == 3)
        #expect(next.allSatisfy { $0 > sourceHead })
        // The change log goes on where the backup's ended: no gap, no position used twice.
        let continued = try PostgresConnection(url: restored.hub.databaseURL)
            .query("SELECT min(position) AS first FROM change_log WHERE position > $1", [sourceHead])[0].decode(Int64.self, "first")
        #expect(continued == sourceHead + 1)

        // A restore refuses a database that is not empty.
        let refused = try Binary.run(["db", "restore", file, "--database-url", sourceURL, "--log-level", "error"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("empty"), "\(refused.stderr)")

        // And back: the embedded cluster (while its hub runs) -> file -> an external database.
        let second = folder + "/embedded.dump"
        let embeddedBackup = try Binary.run(["db", "backup", second, "--data-dir", restored.folder, "--log-level", "error"])
        #expect(embeddedBackup.status == 0, "\(embeddedBackup.stdout)\(embeddedBackup.stderr)")
        let targetURL = try TestDatabase.fresh()
        let externalRestore = try Binary.run(["db", "restore", second, "--database-url", targetURL, "--log-level", "error"])
        #expect(externalRestore.status == 0, "\(externalRestore.stdout)\(externalRestore.stderr)")
        let now = try Self.contents(restored.hub.databaseURL)
        let target = try Self.contents(targetURL)
        for (table, rows) in now {
            #expect(target[table] == rows, "\(table) differs: \(Set(target[table] ?? []).symmetricDifference(rows).sorted().prefix(4))")
        }
    }
}
