import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Hub
import Telemetry

/// A minimal HTTP client for tests, over URLSession.
struct TestHTTPResponse {
    let status: Int
    let body: Data
    let headers: [String: String]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
    }
}

func httpRequest(_ url: String, method: String = "GET", token: String? = nil, body: Data? = nil,
                 headers: [String: String] = [:]) async throws -> TestHTTPResponse {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 30
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    var fields: [String: String] = [:]
    for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
    return TestHTTPResponse(status: http.statusCode, body: data, headers: fields)
}

/// A hub on port 0 with a temporary data folder, on a fresh database of the run's cluster
/// (or its own embedded cluster when `embedded` is true).
final class TestHub: @unchecked Sendable {
    let hub: Hub
    let folder: String
    var base: String { "http://127.0.0.1:\(hub.port)" }
    var adminToken: String {
        (try? String(contentsOfFile: folder + "/admin.token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    init(embedded: Bool = false, adminToken: String? = nil, databaseURL: String? = nil,
         adapters: [String: String] = [:], maxIngestBody: Int? = nil, beforeStart: (String) throws -> Void = { _ in },
         configure: (inout HubConfiguration) -> Void = { _ in }) throws {
        folder = try temporaryFolder("ro-hub")
        var config = HubConfiguration()
        config.catalogDirectory = RepositoryRoot.path + "/mappings/catalog"
        config.mappingsDirectory = RepositoryRoot.path + "/mappings"
        config.adaptersDirectory = folder + "/adapters"
        try FileManager.default.createDirectory(atPath: config.adaptersDirectory, withIntermediateDirectories: true)
        for (name, text) in adapters {
            try text.write(toFile: config.adaptersDirectory + "/" + name, atomically: true, encoding: .utf8)
        }
        if let maxIngestBody { config.maxIngestBody = maxIngestBody }
        config.port = 0
        config.dataDirectory = folder
        config.databaseURL = embedded ? nil : try databaseURL ?? TestDatabase.fresh()
        config.adminToken = adminToken
        config.durableEmbeddedDatabase = false
        config.databasePoolSize = 4
        configure(&config)
        try beforeStart(folder)
        hub = Hub(configuration: config, logger: .silent)
        try hub.start()
    }

    deinit {
        hub.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The repository's root folder (for mappings/, adapters/ and the built binary).
enum RepositoryRoot {
    static let path: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

/// SplitMix64: a small deterministic generator, so a property test's failing seed replays exactly.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
}
