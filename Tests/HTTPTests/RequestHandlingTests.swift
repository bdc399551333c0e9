import Foundation
import HTTP
import Testing

private struct Person: Codable {
    let name: String
    let age: Int
}

private struct SecretFailure: Error, CustomStringConvertible {
    var description: String { "database password is hunter2" }
}

@Suite("Routing, JSON and errors through the real server")
struct RequestHandlingTests {
    private func makeServer() throws -> TestServer {
        try TestServer { router in
            router.add(.GET, "/v1/resources/{resource}/{id}") { request in
                try .json(["route": request.route, "resource": request.pathParameters["resource"] ?? "",
                           "id": request.pathParameters["id"] ?? "", "fields": request.query["fields"] ?? "",
                           "q": request.query["q"] ?? "", "path": request.path,
                           "auth": request.header("authorization") ?? ""])
            }
            router.add(.POST, "/people") { request in
                let person: Person = try request.decodeJSON()
                return try .json(person, status: 201)
            }
            router.add(.GET, "/boom") { _ in throw SecretFailure() }
            router.add(.GET, "/teapot") { _ in throw HTTPError(status: 418, code: "teapot", message: "short and stout") }
            router.add(.DELETE, "/people/{id}") { _ in .noContent }
        }
    }

    @Test func pathParametersQueryAndHeaders() async throws {
        let server = try makeServer()
        defer { server.close() }
        let reply = try await server.fetch("GET", "/v1/resources/person/42%2F7?fields=name%2Cage&q=a+b",
                                           headers: ["Authorization": "Bearer t"])
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/json")
        let json = try JSONDecoder().decode([String: String].self, from: reply.body)
        #expect(json["route"] == "/v1/resources/{resource}/{id}")
        #expect(json["resource"] == "person")
        #expect(json["id"] == "42/7")
        #expect(json["fields"] == "name,age")
        #expect(json["q"] == "a b")
        #expect(json["path"] == "/v1/resources/person/42/7")
        #expect(json["auth"] == "Bearer t")
    }

    @Test func jsonBodyIsDecodedAndBadJSONIsA400ThatSaysWhere() async throws {
        let server = try makeServer()
        defer { server.close() }
        let good = try await server.fetch("POST", "/people", body: Data(#"{"name":"A","age":3}"#.utf8),
                                          headers: ["Content-Type": "application/json"])
        #expect(good.status == 201)
        #expect(try JSONDecoder().decode(Person.self, from: good.body).age == 3)

        let broken = try await server.fetch("POST", "/people", body: Data(#"{"name": "A", "age": }"#.utf8))
        #expect(broken.status == 400)
        let brokenError = try JSONDecoder().decode(ErrorBody.self, from: broken.body).error
        #expect(brokenError.code == "invalid_json")
        #expect(brokenError.message.contains("not valid JSON"))
        #expect(brokenError.message.contains("character 21"), "the position of the error: \(brokenError.message)")

        let wrongType = try await server.fetch("POST", "/people", body: Data(#"{"name":"Zhang San","age":"x"}"#.utf8))
        #expect(wrongType.status == 400)
        let typeError = try JSONDecoder().decode(ErrorBody.self, from: wrongType.body).error
        #expect(typeError.message.contains("$.age"))
        #expect(!typeError.message.contains("Zhang San"), "values must not be echoed")

        let missing = try await server.fetch("POST", "/people", body: Data(#"{"age":1}"#.utf8))
        #expect(try JSONDecoder().decode(ErrorBody.self, from: missing.body).error.message.contains("$.name"))

        let empty = try await server.fetch("POST", "/people", body: Data())
        #expect(empty.status == 400)
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        let server = try makeServer()
        defer { server.close() }
        let missing = try await server.fetch("GET", "/nothing/here")
        #expect(missing.status == 404)
        #expect(missing.headers["content-type"] == "application/json")
        #expect(try JSONDecoder().decode(ErrorBody.self, from: missing.body).error.code == "not_found")

        let wrong = try await server.fetch("PUT", "/people/7", body: Data("{}".utf8))
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "DELETE")
        #expect(try JSONDecoder().decode(ErrorBody.self, from: wrong.body).error.code == "method_not_allowed")

        let deleted = try await server.fetch("DELETE", "/people/7")
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
    }

    @Test func unexpectedErrorsAreABland500AndHTTPErrorsKeepTheirStatus() async throws {
        let server = try makeServer()
        defer { server.close() }
        let failed = try await server.fetch("GET", "/boom")
        #expect(failed.status == 500)
        let text = String(decoding: failed.body, as: UTF8.self)
        #expect(!text.contains("hunter2"))
        #expect(try JSONDecoder().decode(ErrorBody.self, from: failed.body).error.code == "internal")

        let teapot = try await server.fetch("GET", "/teapot")
        #expect(teapot.status == 418)
        let error = try JSONDecoder().decode(ErrorBody.self, from: teapot.body).error
        #expect(error.code == "teapot")
        #expect(error.message == "short and stout")
    }

    @Test func anErrorTranslatorTurnsChosenFailuresIntoTheirOwnAnswers() async throws {
        struct Outage: Error {}
        let server = try TestServer { router in
            router.add(.GET, "/down") { _ in throw Outage() }
            router.add(.GET, "/boom") { _ in throw SecretFailure() }
            router.errorTranslator = { error in
                error is Outage ? HTTPError(status: 503, code: "unavailable", message: "try again",
                                            headers: [HTTPHeader("Retry-After", "2")]) : nil
            }
        }
        defer { server.close() }
        let down = try await server.fetch("GET", "/down")
        #expect(down.status == 503)
        #expect(try JSONDecoder().decode(ErrorBody.self, from: down.body).error.code == "unavailable")
        #expect(down.headers["retry-after"] == "2")
        #expect(try await server.fetch("GET", "/boom").status == 500)
    }

    @Test func malformedEscapesInTheQueryAre400() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        let reply = try client.request("GET", "/v1/resources/p/1?fields=%zz")
        #expect(reply.status == 400)
        #expect(reply.text.contains("bad_request"))
    }

    @Test func metricsCountEveryRequestByRouteMethodAndStatus() async throws {
        let server = try makeServer()
        defer { server.close() }
        _ = try await server.fetch("GET", "/v1/resources/a/1")
        _ = try await server.fetch("GET", "/v1/resources/b/2")
        _ = try await server.fetch("GET", "/nowhere")
        _ = try await server.fetch("GET", "/boom")
        let text = server.metrics.render()
        #expect(text.contains(#"http_requests_total{route="/v1/resources/{resource}/{id}",method="GET",status="200"} 2"#))
        #expect(text.contains(#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
        #expect(text.contains(#"http_requests_total{route="/boom",method="GET",status="500"} 1"#))
        #expect(text.contains(#"http_request_duration_seconds_count{route="/v1/resources/{resource}/{id}"} 2"#))
        #expect(text.contains(#"http_request_duration_seconds_count{route="unmatched"} 1"#))
    }

    @Test func headUsesTheGetRouteWithoutABody() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("HEAD", "/v1/resources/a/1")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "application/json")
        // No body follows: the next request on the same connection is answered directly.
        #expect(try client.request("GET", "/nothing").status == 404)
    }
}
