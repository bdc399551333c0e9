import Foundation
import Testing
@testable import Hub

/// docs/openapi.json describes every route the hub serves, and is a valid OpenAPI 3.1 document.
@Suite struct OpenAPITests {
    static var document: [String: Any] {
        let data = FileManager.default.contents(atPath: RepositoryRoot.path + "/docs/openapi.json")!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func everyRoutedEndpointIsDocumented() async throws {
        let hub = try TestHub()
        let paths = try #require(Self.document["paths"] as? [String: [String: Any]])
        let routes = try #require(hub.hub.router?.registeredRoutes)
        #expect(routes.count >= 12)
        for route in routes {
            let operations = paths[route.pattern]
            #expect(operations?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(route.pattern) is not in docs/openapi.json")
        }
        // And nothing documented that is not served.
        let served = Set(routes.map { "\($0.method.rawValue.lowercased()) \($0.pattern)" })
        for (path, operations) in paths {
            for method in operations.keys { #expect(served.contains("\(method) \(path)"), "\(method) \(path) is documented but not routed") }
        }
    }

    @Test func theHubServesTheDocument() async throws {
        let hub = try TestHub()
        let response = try await httpRequest(hub.base + "/openapi.json")
        #expect(response.status == 200)
        #expect(try response.json()["openapi"] as? String == "3.1.0")
    }

    @Test func theDocumentIsValidOpenAPI() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys, openapi_spec_validator as v; v.validate(json.load(open(sys.argv[1])))",
                             RepositoryRoot.path + "/docs/openapi.json"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "openapi-spec-validator (installed by deploy/setup) failed: \(text)")
    }
}
