import Catalog
import Foundation
import Store
import Testing
@testable import Hub

/// The console's files and the general read endpoints added for it, through the real server:
/// security headers, `/v1/stats/*` against the database, `/v1/catalog`, the subscription preview,
/// masked record reads and their audit entries, audit search by time.
@Suite struct ConsoleAPITests {
    static let person = "510108196503140114"

    /// A hub with the police sample pushed (12 source records).
    static func loadedHub() async throws -> TestHub {
        let hub = try IngestAPITests.hub()
        let pushed = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: IngestAPITests.policeToken,
                                           body: IngestAPITests.sample)
        #expect(pushed.status == 200, "\(pushed.text)")
        return hub
    }

    static func get(_ hub: TestHub, _ path: String) async throws -> [String: Any] {
        let response = try await httpRequest(hub.base + path, token: hub.adminToken)
        #expect(response.status == 200, "\(path): \(response.text)")
        return try response.json()
    }

    @Test func consoleFilesCarryTheSecurityHeadersAndNoInlineCode() async throws {
        let hub = try TestHub()
        for (path, type) in [("/console/", "text/html"), ("/console/app.js", "text/javascript"), ("/console/style.css", "text/css"),
                             ("/console/charts.js", "text/javascript")] {
            let response = try await httpRequest(hub.base + path)
            #expect(response.status == 200, "\(path)")
            #expect(response.headers["content-type"]?.hasPrefix(type) == true, "\(path): \(response.headers)")
            let csp = response.headers["content-security-policy"] ?? ""
            #expect(csp.contains("script-src 'self'") && csp.contains("style-src 'self'") && !csp.contains("unsafe"), "\(path): \(csp)")
            #expect(response.headers["x-frame-options"] == "DENY")
            #expect(response.headers["referrer-policy"] == "no-referrer")
        }
        #expect(try await httpRequest(hub.base + "/console/no-such.js").status == 404)
        // /console redirects to /console/ (checked with curl: Linux URLSession loses the slash when following it).
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", hub.base + "/console"]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        curl.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "308 \(hub.base)/console/")
        // The page has no inline script or style attribute for the CSP to block, and loads nothing from elsewhere.
        let html = try await httpRequest(hub.base + "/console/").text
        #expect(!html.contains("style=") && !html.contains("onclick") && !html.contains("http://") && !html.contains("https://"))
        #expect(html.components(separatedBy: "<script").count == 2)
        // Every module the page imports is served.
        let app = try await httpRequest(hub.base + "/console/app.js").text
        let imports = app.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("import "), let from = line.range(of: "from './") else { return nil }
            return String(line[from.upperBound...].prefix { $0 != "'" })
        }
        #expect(imports.count >= 10)
        for module in imports { #expect(try await httpRequest(hub.base + "/console/" + module).status == 200, "\(module)") }
    }

    @Test func statsAgreeWithTheDatabase() async throws {
        let hub = try await Self.loadedHub()
        let overview = try await Self.get(hub, "/v1/stats/overview")
        let counts = try hub.hub.pool.withConnection { c in
            try c.query("SELECT resource, count(*) AS n FROM entities GROUP BY resource").rows.map { ($0["resource"]!, Int($0["n"]!)!) }
        }
        let resources = try #require(overview["resources"] as? [[String: Any]])
        for (resource, n) in counts {
            #expect(resources.first { $0["resource"] as? String == resource }?["count"] as? Int == n, "\(resource)")
        }
        #expect(resources.contains { $0["resource"] as? String == "Disability" && $0["count"] as? Int == 0 }, "catalog resources without records count 0")
        let head = try hub.hub.pool.withConnection { try ChangeLog.head($0) }
        #expect(head > 0)
        #expect((overview["change_log"] as? [String: Any])?["head"] as? Int64 == head || (overview["change_log"] as? [String: Any])?["head"] as? Int == Int(head))
        let rejects = try hub.hub.pool.withConnection { Int(try $0.query("SELECT count(*) AS n FROM rejects WHERE status = 'open'").first!["n"]!)! }
        #expect((overview["rejects"] as? [String: Any])?["open"] as? Int == rejects)
        #expect((overview["adapters"] as? [String: Any])?["total"] as? Int == 2)

        // Every event of the push happened in the last minutes.
        let changes = try await Self.get(hub, "/v1/stats/changes?minutes=10")
        let buckets = try #require(changes["buckets"] as? [[String: Any]])
        #expect(buckets.count == 10)
        #expect(changes["total"] as? Int == Int(head))
        #expect(buckets.reduce(0) { $0 + ($1["events"] as? Int ?? 0) } == Int(head))
        #expect(try await httpRequest(hub.base + "/v1/stats/changes?minutes=0", token: hub.adminToken).status == 400)

        // Persons per registered division add up to the persons, and the sample's community is there.
        let divisions = try await Self.get(hub, "/v1/stats/divisions?resource=Person&field=registered_division")
        let rows = try #require(divisions["divisions"] as? [[String: Any]])
        let persons = counts.first { $0.0 == "Person" }?.1 ?? 0
        #expect(rows.reduce(0) { $0 + ($1["records"] as? Int ?? 0) } == persons)
        #expect((rows.first { $0["code"] as? String == "510108001001" }?["records"] as? Int ?? 0) > 0)
        #expect(rows.reduce(0) { $0 + ($1["changes"] as? Int ?? 0) } > 0)
        let wrongField = try await httpRequest(hub.base + "/v1/stats/divisions?resource=Person&field=name", token: hub.adminToken)
        #expect(wrongField.status == 400 && wrongField.text.contains("registered_division"))

        // An adapter token is not an admin's.
        #expect(try await httpRequest(hub.base + "/v1/stats/overview", token: IngestAPITests.policeToken).status == 403)
    }

    @Test func subscriptionLagFollowsWhatWasPulled() async throws {
        let hub = try await Self.loadedHub()
        let created = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken, body: Data(#"""
            {"name":"lag test","purpose":"test","resources":["Person"]}
            """#.utf8))
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(try created.json()["id"] as? String)
        let token = try #require(try created.json()["token"] as? String)
        var lag = try await Self.get(hub, "/v1/stats/subscriptions")
        var mine = (lag["subscriptions"] as? [[String: Any]])?.first { $0["id"] as? String == id }
        #expect(mine != nil && mine?["delivered_position"] is NSNull, "nothing delivered yet: \(String(describing: mine))")
        let page = try await httpRequest(hub.base + "/v1/feed?limit=3", token: token)
        let events = try #require(try page.json()["events"] as? [[String: Any]])
        #expect(events.count == 3)
        let lastID = events.last?["id"] as? String ?? ""
        let delivered = try #require(Int(lastID))
        lag = try await Self.get(hub, "/v1/stats/subscriptions")
        mine = (lag["subscriptions"] as? [[String: Any]])?.first { $0["id"] as? String == id }
        let head = try #require(lag["head"] as? Int)
        #expect(mine?["delivered_position"] as? Int == delivered)
        #expect(mine?["lag"] as? Int == head - delivered)
    }

    @Test func catalogAndCodeTables() async throws {
        let hub = try TestHub()
        let catalog = try Catalog.load(directory: RepositoryRoot.path + "/mappings/catalog")
        let body = try await Self.get(hub, "/v1/catalog")
        let resources = try #require(body["resources"] as? [[String: Any]])
        #expect(resources.count == catalog.resources.count)
        let person = try #require(resources.first { $0["name"] as? String == "Person" })
        #expect((person["division_fields"] as? [String])?.contains("registered_division") == true)
        let citizenID = (person["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "citizen_id" }
        #expect(citizenID?["default_policy"] as? String == "masked" && citizenID?["sensitivity"] as? String == "sensitive")
        let division = try await Self.get(hub, "/v1/catalog/codes/division")
        #expect((division["codes"] as? [[String: Any]])?.count == catalog.codeTable("division")?.entries.count)
        #expect(try await httpRequest(hub.base + "/v1/catalog/codes/nope", token: hub.adminToken).status == 404)
        #expect(try await httpRequest(hub.base + "/v1/catalog").status == 401)
    }

    @Test func previewShowsWhatAGrantDisclosesWithoutSavingIt() async throws {
        let hub = try TestHub()
        func preview(_ spec: String) async throws -> [String: Any] {
            let response = try await httpRequest(hub.base + "/v1/subscriptions/preview", method: "POST", token: hub.adminToken, body: Data(spec.utf8))
            #expect(response.status == 200, "\(response.text)")
            return try response.json()
        }
        func policy(_ answer: [String: Any], _ field: String) -> String? {
            ((answer["resources"] as? [[String: Any]])?.first?["fields"] as? [[String: Any]])?.first { $0["field"] as? String == field }?["policy"] as? String
        }
        let plain = try await preview(#"{"name":"p","purpose":"x","resources":["Person"],"area":["510108001"]}"#)
        #expect(plain["valid"] as? Bool == true)
        #expect(policy(plain, "citizen_id") == "masked")
        #expect(plain["area"] as? [String] == ["510108001"])
        let chosen = try await preview(#"{"name":"p","purpose":"x","resources":["Person"],"masking":{"Person.citizen_id":"pseudonymized"}}"#)
        #expect(policy(chosen, "citizen_id") == "pseudonymized")
        let invalid = try await preview(#"{"name":"p","resources":["Ghost"]}"#)
        #expect(invalid["valid"] as? Bool == false)
        let paths = (invalid["problems"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(paths.contains("purpose") && paths.contains("resources[0]"), "\(paths)")
        let list = try await Self.get(hub, "/v1/subscriptions")
        #expect((list["subscriptions"] as? [Any])?.isEmpty == true, "a preview saves nothing")
    }

    @Test func maskedReadsAndRevealsAreAuditedWithTheirPurpose() async throws {
        let hub = try await Self.loadedHub()
        let masked = try await Self.get(hub, "/v1/resources/Person?key=\(Self.person)&view=masked&purpose=lookup")
        let record = try #require(masked["record"] as? [String: Any])
        let maskedID = try #require(record["citizen_id"] as? String)
        #expect(maskedID != Self.person && maskedID.hasPrefix("510108") && maskedID.contains("*"))
        #expect((record["name"] as? String)?.contains("*") == true)
        #expect(masked["view"] as? String == "masked")
        #expect((masked["masked_fields"] as? [String])?.contains("citizen_id") == true)
        let provenance = try #require(masked["provenance"] as? [String: [String: Any]])
        #expect(provenance.values.allSatisfy { ($0["source_key"] as? String).map { $0 != Self.person } ?? true })

        let full = try await Self.get(hub, "/v1/resources/Person?key=\(Self.person)&purpose=correction%20request%2042")
        #expect((full["record"] as? [String: Any])?["citizen_id"] as? String == Self.person)

        let audit = try await Self.get(hub, "/v1/audit?actor=admin")
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(entries.contains { $0["purpose"] as? String == "lookup (masked view)" })
        #expect(entries.contains { $0["purpose"] as? String == "correction request 42" && ($0["fields"] as? [String])?.contains("citizen_id") == true })
        // Search by time: nothing before the hub started, everything since.
        let before = try await Self.get(hub, "/v1/audit?actor=admin&until=2000-01-01T00:00:00Z")
        #expect((before["entries"] as? [Any])?.isEmpty == true)
        let since = try await Self.get(hub, "/v1/audit?actor=admin&since=2000-01-01T00:00:00Z")
        #expect((since["entries"] as? [Any])?.count == entries.count)
        #expect(try await httpRequest(hub.base + "/v1/audit?since=yesterday", token: hub.adminToken).status == 400)
    }
}
