@testable import HTTP
import Testing

@Suite("Router and path decoding (no network)")
struct RouterTests {
    private func table(_ register: (Router) -> Void) -> RouteTable {
        let router = Router()
        register(router)
        return router.table()
    }

    private let ok: Handler = { _ in .noContent }

    @Test func literalSegmentBeatsParameterWhateverTheOrder() {
        let routes = table {
            $0.add(.GET, "/v1/resources/{resource}/{id}", handler: ok)
            $0.add(.GET, "/v1/resources/person/search", handler: ok)
        }
        guard case .found(let route, let parameters) = routes.match(method: .GET, rawPath: "/v1/resources/person/search") else {
            Issue.record("no match")
            return
        }
        #expect(route.pattern == "/v1/resources/person/search")
        #expect(parameters.isEmpty)
        guard case .found(let other, let values) = routes.match(method: .GET, rawPath: "/v1/resources/person/42") else {
            Issue.record("no match")
            return
        }
        #expect(other.pattern == "/v1/resources/{resource}/{id}")
        #expect(values == ["resource": "person", "id": "42"])
    }

    @Test func parametersArePercentDecodedPerSegment() {
        let routes = table { $0.add(.GET, "/files/{name}", handler: ok) }
        guard case .found(_, let parameters) = routes.match(method: .GET, rawPath: "/files/a%2Fb%20c") else {
            Issue.record("an encoded slash must stay inside its segment")
            return
        }
        #expect(parameters["name"] == "a/b c")
        guard case .notFound = routes.match(method: .GET, rawPath: "/files/a/b") else {
            Issue.record("a real slash is a new segment")
            return
        }
    }

    @Test func wrongMethodListsAllowedMethodsAndHeadFallsBackToGet() {
        let routes = table {
            $0.add(.GET, "/things/{id}", handler: ok)
            $0.add(.DELETE, "/things/{id}", handler: ok)
        }
        guard case .methodNotAllowed(let pattern, let allowed) = routes.match(method: .POST, rawPath: "/things/1") else {
            Issue.record("expected 405")
            return
        }
        #expect(pattern == "/things/{id}")
        #expect(allowed == [.GET, .DELETE, .HEAD])
        guard case .found(let route, _) = routes.match(method: .HEAD, rawPath: "/things/1") else {
            Issue.record("HEAD should use the GET route")
            return
        }
        #expect(route.method == .GET)
    }

    @Test func unknownPathsAndMalformedEscapesDoNotMatch() {
        let routes = table { $0.add(.GET, "/a/{x}", handler: ok) }
        guard case .notFound = routes.match(method: .GET, rawPath: "/b/1") else {
            Issue.record("expected no match")
            return
        }
        guard case .notFound = routes.match(method: .GET, rawPath: "/a/%zz") else {
            Issue.record("a malformed escape must not match")
            return
        }
    }

    @Test func percentDecoding() {
        #expect(PercentDecoding.decode("plain") == "plain")
        #expect(PercentDecoding.decode("%E4%B8%AD%E6%96%87") == "中文")
        #expect(PercentDecoding.decode("a+b", plusIsSpace: true) == "a b")
        #expect(PercentDecoding.decode("a+b") == "a+b")
        #expect(PercentDecoding.decode("%4") == nil)
        #expect(PercentDecoding.decode("%G1") == nil)
        #expect(PercentDecoding.decode("%FF%FE") == nil, "not UTF-8")
    }

    @Test func headersAreLookedUpWithoutRegardToCase() {
        let headers = HTTPHeaders([HTTPHeader("Content-Type", "a"), HTTPHeader("X-Multi", "1"), HTTPHeader("x-multi", "2")])
        #expect(headers["content-type"] == "a")
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers["content-typ"] == nil)
        #expect(headers.values("X-MULTI") == ["1", "2"])
    }

    @Test func libraryMessagesLoseTheirRequestPaths() {
        #expect(HTTPServer.redactingPaths("Failed to send body for `/v1/people/110101199001011234'. Error: x")
                == "Failed to send body for `<path>'. Error: x")
        #expect(HTTPServer.redactingPaths("no path here") == "no path here")
        #expect(HTTPServer.redactingPaths("unclosed `quote") == "unclosed `quote")
    }
}
