import Foundation
import Secrets
import Testing
@testable import Hub

/// `POST /v1/ingest/{adapter}` and the admin read API, through the real server.
@Suite struct IngestAPITests {
    static let policeToken = "police-push-token-for-tests"
    static let otherToken = "other-push-token-for-tests"

    static func hub(maxIngestBody: Int? = nil) throws -> TestHub {
        let hub = try TestHub(adapters: [
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { file: "police.token" } }"#,
            // Declared against a mapping of another adapter: disabled, but its token is still a valid, other adapter's token.
            "other.json5": #"{ id: "other", department: "health", mapping: "police-hukou.json5", token: { sha256: "\#(sha(otherToken))" } }"#,
        ], maxIngestBody: maxIngestBody, beforeStart: { folder in
            try policeToken.write(toFile: folder + "/adapters/police.token", atomically: true, encoding: .utf8)
        })
        return hub
    }

    static func sha(_ text: String) -> String { Secrets.hex(Secrets.sha256(text)) }

    static var sample: Data { FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/police-hukou.json")! }

    static func page(_ items: [[String: String]]) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["code": 0, "data": ["page": 1, "items": items]])
    }

    @Test func aPushIsStoredAndItsRepeatChangesNothing() async throws {
        let hub = try Self.hub()
        let url = hub.base + "/v1/ingest/police-hukou"
        let first = try await httpRequest(url, method: "POST", token: Self.policeToken, body: Self.sample)
        #expect(first.status == 200, "\(first.text)")
        let body = try first.json()
        let totals = try #require(body["totals"] as? [String: Int])
        #expect(totals["received"]! > 5)
        #expect(totals["accepted"]! > 0)
        #expect(totals["accepted"]! + totals["rejected"]! + totals["skipped"]! == totals["received"]!)
        #expect((body["events"] as? Int ?? 0) > 0)
        let records = try #require(body["records"] as? [[String: Any]])
        #expect(records.allSatisfy { ($0["position"] as? String)?.contains("body") == true })

        let again = try await httpRequest(url, method: "POST", token: Self.policeToken, body: Self.sample)
        let againTotals = try #require(try again.json()["totals"] as? [String: Int])
        #expect(againTotals["unchanged"] == totals["received"])
        #expect(try again.json()["events"] as? Int == 0)
    }

    @Test func goodRecordsAreKeptBesideBadOnesAndBadOnesCanBeListed() async throws {
        let hub = try Self.hub()
        let body = try Self.page([
            ["GMSFHM": "11010519491231002X", "XM": "张三", "XB": "1", "YHZGX": "子", "HH": "1", "DJJG": "x"],
            ["GMSFHM": "110105194912310021", "XM": "李四", "XB": "2", "YHZGX": "子", "HH": "1", "DJJG": "x"],
        ])
        let response = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: Self.policeToken, body: body)
        #expect(response.status == 200)
        let records = try #require(try response.json()["records"] as? [[String: Any]])
        #expect(records.map { $0["status"] as? String } == ["accepted", "rejected"])
        let problems = try #require(records[1]["problems"] as? [[String: Any]])
        #expect(problems.contains { ($0["rule"] as? String)?.hasPrefix("citizen_id") == true })
        // Problems say what is wrong, never the value (the source key is the department's own key, echoed on purpose).
        let problemText = String(describing: problems)
        #expect(!problemText.contains("110105194912310021"))
        #expect(!problemText.contains("李四"))

        let rejects = try await httpRequest(hub.base + "/v1/rejects?adapter=police-hukou", token: hub.adminToken)
        let list = try #require(try rejects.json()["rejects"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(!rejects.text.contains("李四"))   // the stored record is kept for retries, not listed
        let id = try #require(list[0]["id"] as? Int)
        let retry = try await httpRequest(hub.base + "/v1/rejects/\(id)/retry", method: "POST", token: hub.adminToken)
        #expect(try retry.json()["status"] as? String == "rejected")

        let person = try await httpRequest(hub.base + "/v1/resources/person?key=11010519491231002X", token: hub.adminToken)
        #expect(person.status == 200)
        let json = try person.json()
        #expect((json["record"] as? [String: Any])?["name"] as? String == "张三")
        let provenance = try #require(json["provenance"] as? [String: [String: Any]])
        #expect(provenance["name"]?["adapter"] as? String == "police-hukou")
        let entityID = try #require(json["id"] as? String)
        let v1 = try await httpRequest(hub.base + "/v1/resources/Person/\(entityID)?version=1", token: hub.adminToken)
        #expect(v1.status == 200)
        #expect(try await httpRequest(hub.base + "/v1/resources/Person/\(entityID)?version=99", token: hub.adminToken).status == 404)

        let changes = try await httpRequest(hub.base + "/v1/changes?after=0&limit=1", token: hub.adminToken)
        let page = try changes.json()
        #expect((page["events"] as? [Any])?.count == 1)
        #expect(page["next"] as? Int == 1)
    }

    @Test func errorsHaveTheRightStatus() async throws {
        let hub = try Self.hub(maxIngestBody: 1 << 20)
        let url = hub.base + "/v1/ingest/police-hukou"
        #expect(try await httpRequest(url, method: "POST", body: Self.sample).status == 401)
        #expect(try await httpRequest(url, method: "POST", token: "wrong", body: Self.sample).status == 401)
        #expect(try await httpRequest(url, method: "POST", token: Self.otherToken, body: Self.sample).status == 403)
        #expect(try await httpRequest(hub.base + "/v1/ingest/nope", method: "POST", token: hub.adminToken, body: Self.sample).status == 404)
        #expect(try await httpRequest(hub.base + "/v1/ingest/other", method: "POST", token: Self.otherToken, body: Self.sample).status == 409)
        let garbage = try await httpRequest(url, method: "POST", token: Self.policeToken, body: Data("{\"data\": {\"items\": [ {\"XM\": ".utf8))
        #expect(garbage.status == 400)
        #expect((try garbage.json()["error"] as? [String: Any])?["message"] as? String != nil)
        let big = Data(repeating: 32, count: 2 << 20)
        let tooLarge = try await httpRequest(url, method: "POST", token: Self.policeToken, body: big)
        #expect(tooLarge.status == 413)
        #expect((try tooLarge.json()["error"] as? [String: Any])?["code"] as? String == "payload_too_large")
        // The admin token may push too; a department token may not read.
        #expect(try await httpRequest(url, method: "POST", token: hub.adminToken, body: Self.sample).status == 200)
        #expect(try await httpRequest(hub.base + "/v1/changes", token: Self.policeToken).status == 403)
        #expect(try await httpRequest(hub.base + "/v1/changes?limit=0", token: hub.adminToken).status == 400)
    }
}
