import Foundation
@testable import Hub
import Testing

/// A hub with a police register (clean citizen IDs; name, sex, date of birth, registered
/// division) and a hotline whose Person output is `matchable` (its records often lack a usable ID;
/// it also brings the marital status). Both send JSON arrays with `key`, `id`, `name`, `sex`,
/// `dob`, `division`, `marital`.
final class MatchingHub: @unchecked Sendable {
    let test: TestHub
    var base: String { test.base }
    let token = "matching-admin-token-for-tests"

    init(hotlineMatchable: String = "true") throws {
        let adapters = [
            "mt-police.json5": #"{ id: "mt-police", department: "police", mapping: "mt-police.json5", token: { sha256: "\#(String(repeating: "0", count: 64))" } }"#,
            "mt-hotline.json5": #"{ id: "mt-hotline", department: "civil-affairs", mapping: "mt-hotline.json5", token: { sha256: "\#(String(repeating: "0", count: 64))" } }"#,
        ]
        test = try TestHub(adminToken: token, adapters: adapters, beforeStart: { folder in
            try FileManager.default.createDirectory(atPath: folder + "/mappings", withIntermediateDirectories: true)
            try """
                { id: 'mt-police', version: 1,
                  source: { adapter: 'mt-police', department: 'police', format: 'json', key: 'key' },
                  outputs: [ { resource: 'Person', partial: true,
                               fields: { citizen_id: 'id', name: 'name', sex: 'sex', date_of_birth: 'dob', registered_division: 'division' } } ] }
                """.write(toFile: folder + "/mappings/mt-police.json5", atomically: true, encoding: .utf8)
            try """
                { id: 'mt-hotline', version: 1,
                  source: { adapter: 'mt-hotline', department: 'civil-affairs', format: 'json', key: 'key' },
                  outputs: [ { resource: 'Person', partial: true, matchable: \(hotlineMatchable),
                               fields: { citizen_id: 'id', name: 'name', sex: 'sex', date_of_birth: 'dob', registered_division: 'division',
                                         marital_status: 'marital' } } ] }
                """.write(toFile: folder + "/mappings/mt-hotline.json5", atomically: true, encoding: .utf8)
        }, configure: { config in config.mappingsDirectory = config.dataDirectory + "/mappings" })
    }

    @discardableResult
    func push(_ adapter: String, _ records: [[String: String]]) async throws -> [String: Any] {
        let response = try await httpRequest(base + "/v1/ingest/\(adapter)", method: "POST", token: token,
                                             body: try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys]))
        #expect(response.status == 200, "\(response.text)")
        let body = try response.json()
        #expect((body["totals"] as? [String: Int])?["rejected"] == 0, "\(response.text)")
        return body
    }

    func get(_ path: String) async throws -> [String: Any] {
        let response = try await httpRequest(base + path, token: token)
        #expect(response.status == 200, "GET \(path): \(response.text)")
        return try response.json()
    }

    func send(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> TestHTTPResponse {
        try await httpRequest(base + path, method: method, token: token, body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
    }

    func person(_ id: String) async throws -> [String: Any] { try await get("/v1/resources/person?key=\(id)") }

    func matches(_ query: String = "") async throws -> [[String: Any]] {
        try await get("/v1/matches?limit=1000&" + query)["matches"] as? [[String: Any]] ?? []
    }

    /// The hotline record `key`'s outcome in a push answer.
    static func outcome(_ body: [String: Any], key: String) -> [String: Any]? {
        (body["records"] as? [[String: Any]])?.first { $0["source_key"] as? String == key }
    }

    static func rules(_ outcome: [String: Any]?) -> [String] {
        (outcome?["problems"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
    }
}
