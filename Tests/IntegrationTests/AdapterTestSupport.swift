import Adapters
import Foundation
@testable import Hub

/// A hub whose scheduler knows the fake pull kind and runs it quickly.
func pullHub(databaseURL: String? = nil, adminToken: String? = nil, owner: String? = nil, kind: any PullKind.Type = FakePullKind.self,
             lease: Double = 5, backoff: Backoff = Backoff(base: 0.2, maximum: 1), adapters: [String: String] = [:]) throws -> TestHub {
    try TestHub(adminToken: adminToken, databaseURL: databaseURL, adapters: adapters, configure: { config in
        config.pullKinds = [kind]
        config.scheduler.tickSeconds = 0.1
        config.scheduler.leaseSeconds = lease
        config.scheduler.backoff = backoff
        if let owner { config.scheduler.owner = owner }
        config.adapterRefreshSeconds = 0.2
    })
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Double = 15, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}

extension TestHub {
    /// The admin token: the configured one, else the one generated into the data folder.
    var admin: String { hub.configuration.adminToken ?? adminToken }

    /// `GET /v1/adapters/{id}` as a dictionary.
    func adapterStatus(_ id: String) async throws -> [String: Any] {
        try await httpRequest(base + "/v1/adapters/\(id)", token: admin).json()
    }

    func post(_ path: String, _ body: String? = nil, method: String = "POST") async throws -> TestHTTPResponse {
        try await httpRequest(base + path, method: method, token: admin, body: body.map { Data($0.utf8) })
    }
}

extension Dictionary where Key == String, Value == Any {
    var state: String? { self["state"] as? String }
    var checkpoint: String? { self["checkpoint"] as? String }
    func counter(_ name: String) -> Int { (self["counters"] as? [String: Any])?[name] as? Int ?? -1 }
}
