import Foundation
import HTTPClient

/// Talks to a running hub's subscription API with the admin token (for `recordonce subscription`).
public struct SubscriptionClient: Sendable {
    public let baseURL: String
    public let token: String
    let client = HTTPClient(maximumResponseBytes: 16 << 20)

    public init(baseURL: String, token: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    /// A hub answer that was not a success: its status and the hub's error message.
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int
        public let body: String
        public var description: String { "the hub answered \(status): \(body)" }
    }

    /// Sends a request and returns the body of a 2xx answer.
    public func send(_ method: String, _ path: String, body: [UInt8] = []) throws -> String {
        var headers = [("Authorization", "Bearer " + token)]
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        let response = try client.send(HTTPClientRequest(method: method, url: baseURL + path, headers: headers, body: body))
        let text = String(decoding: response.body, as: UTF8.self)
        guard (200..<300).contains(response.status) else { throw Failure(status: response.status, body: text) }
        return text
    }

    public func create(_ spec: SubscriptionSpec) throws -> String {
        try send("POST", "/v1/subscriptions", body: Array(try JSONEncoder().encode(spec)))
    }
    public func list() throws -> String { try send("GET", "/v1/subscriptions") }
    public func show(_ id: String) throws -> String { try send("GET", "/v1/subscriptions/" + id) }
    public func change(_ id: String, _ spec: SubscriptionSpec) throws -> String {
        try send("PUT", "/v1/subscriptions/" + id, body: Array(try JSONEncoder().encode(spec)))
    }
    public func delete(_ id: String) throws { _ = try send("DELETE", "/v1/subscriptions/" + id) }
}
