import Foundation
@testable import Hub
import Testing

/// A hub with three test departments that send Person records as JSON arrays (`key`, `id`,
/// `name`, `sex`, `dob`, `marital`), each mapping only the fields its department keeps:
/// police (name, sex, date_of_birth, marital_status), civil-affairs (name, date_of_birth,
/// marital_status), health (name, sex, date_of_birth). Authorities are the real catalog's.
final class StewardshipHub: @unchecked Sendable {
    static let departments: [(adapter: String, department: String, fields: [String: String])] = [
        ("st-police", "police", ["name": "name", "sex": "sex", "date_of_birth": "dob", "marital_status": "marital"]),
        ("st-civil", "civil-affairs", ["name": "name", "date_of_birth": "dob", "marital_status": "marital"]),
        ("st-health", "health", ["name": "name", "sex": "sex", "date_of_birth": "dob"]),
    ]

    let test: TestHub
    var base: String { test.base }
    /// Given, not generated, so that a second hub on the same database knows it too.
    let token = "stewardship-admin-token-for-tests"

    init(databaseURL: String? = nil) throws {
        var adapters: [String: String] = [:]
        for d in Self.departments {
            adapters[d.adapter + ".json5"] = #"{ id: "\#(d.adapter)", department: "\#(d.department)", mapping: "\#(d.adapter).json5", token: { sha256: "\#(String(repeating: "0", count: 64))" } }"#
        }
        test = try TestHub(adminToken: token, databaseURL: databaseURL, adapters: adapters, beforeStart: { folder in
            try FileManager.default.createDirectory(atPath: folder + "/mappings", withIntermediateDirectories: true)
            for d in Self.departments {
                let fields = d.fields.sorted { $0.key < $1.key }.map { "\($0.key): '\($0.value)'" }.joined(separator: ", ")
                try """
                    { id: '\(d.adapter)', version: 1,
                      source: { adapter: '\(d.adapter)', department: '\(d.department)', format: 'json', key: 'key' },
                      outputs: [ { resource: 'Person', partial: true, fields: { citizen_id: 'id', \(fields) } } ] }
                    """.write(toFile: folder + "/mappings/\(d.adapter).json5", atomically: true, encoding: .utf8)
            }
        }, configure: { config in config.mappingsDirectory = config.dataDirectory + "/mappings" })
    }

    /// Pushes records through the adapter (admin token); returns the hub's answer.
    @discardableResult
    func push(_ adapter: String, _ records: [[String: String]]) async throws -> [String: Any] {
        let response = try await httpRequest(base + "/v1/ingest/\(adapter)", method: "POST", token: token,
                                             body: try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys]))
        #expect(response.status == 200, "\(response.text)")
        let body = try response.json()
        let totals = body["totals"] as? [String: Int] ?? [:]
        #expect(totals["rejected"] == 0, "\(response.text)")
        return body
    }

    func get(_ path: String) async throws -> [String: Any] {
        let response = try await httpRequest(base + path, token: token)
        #expect(response.status == 200, "GET \(path): \(response.text)")
        return try response.json()
    }

    func send(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> TestHTTPResponse {
        try await httpRequest(base + path, method: method, token: token,
                              body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
    }

    /// The golden Person with this citizen ID.
    func person(_ id: String) async throws -> [String: Any] { try await get("/v1/resources/person?key=\(id)") }

    func conflicts(_ query: String = "") async throws -> [[String: Any]] {
        try await get("/v1/conflicts?limit=1000&" + query)["conflicts"] as? [[String: Any]] ?? []
    }

    /// A valid citizen ID number for resident `i` (born 1980-1999).
    static func citizenID(_ i: Int) -> String {
        PoliceRegister.citizenID("510108" + String(1980 + i % 20) + String(format: "%02d%02d", 1 + i % 12, 1 + i % 28) + String(format: "%03d", i % 1000))
    }

    static func record(_ i: Int, key: String, _ values: [String: String]) -> [String: String] {
        ["key": key, "id": citizenID(i)].merging(values) { $1 }
    }
}

extension Dictionary where Key == String, Value == Any {
    var object: [String: Any] { self }
    func member(_ path: String...) -> Any? {
        var current: Any? = self
        for key in path { current = (current as? [String: Any])?[key] }
        return current
    }
}
