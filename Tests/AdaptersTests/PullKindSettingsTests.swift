import JSON5
import Testing
@testable import Adapters

/// The pull kinds' settings checks and their small building blocks, without any network.
@Suite struct PullKindSettingsTests {
    static func node(_ text: String) throws -> JSONNode { try JSON5.parseDocument(text, file: "a.json5") }

    @Test func httpJSONReportsEveryProblemWithItsKeyPath() throws {
        let problems = HTTPJSONKind.validate(try Self.node("""
            { kind: 'http-json', every: '1m', url: 'http://user:pw@dept/api?since={since}', records: 5,
              pagination: { style: 'cursor' }, auth: { bearer: 'plain-token' }, headers: { Authorization: 'x' },
              timeout: -1, colour: 'red' }
            """), file: "a.json5")
        let paths = Set(problems.map(\.path))
        for path in ["pull.url", "pull.records", "pull.pagination.cursorPath", "pull.pagination", "pull.auth.bearer",
                     "pull.headers.Authorization", "pull.timeout", "pull.colour"] {
            #expect(paths.contains(path), "\(path) missing from \(problems.map(\.description))")
        }
        #expect(problems.allSatisfy { $0.position != nil })
        #expect(!problems.contains { $0.description.contains("plain-token") || $0.description.contains("pw@") })
        #expect(problems.contains { $0.message.contains("unknown placeholder {since}") })
    }

    @Test func aGoodHTTPJSONDeclarationHasNoProblem() throws {
        let problems = HTTPJSONKind.validate(try Self.node("""
            { kind: 'http-json', every: '30s', url: 'https://dept.example/api?updated_since={checkpoint}&page={page}&size={pageSize}',
              records: 'data.items', checkpointField: 'GXSJ', pageSize: 100, pagination: { style: 'page', first: 1 },
              auth: { basic: { user: 'ro', password: { env: 'DEPT_PASSWORD' } } } }
            """), file: "a.json5")
        #expect(problems.isEmpty, "\(problems)")
        #expect(throws: PullFailure.self) {
            _ = try HTTPJSONKind.makeSource(try Self.node("{ kind: 'http-json' }"),
                                            context: PullContext(adapterID: "a", baseDirectory: "/tmp") { _ in "" })
        }
    }

    @Test func csvDropReportsEveryProblem() throws {
        let problems = CSVDropKind.validate(try Self.node("""
            { kind: 'csv-drop', pattern: '*a*.csv', encoding: 'latin1', delimiter: ';;', complete: 'sometime', header: 'yes' }
            """), file: "a.json5")
        let paths = Set(problems.map(\.path))
        for path in ["pull.folder", "pull.pattern", "pull.encoding", "pull.delimiter", "pull.complete", "pull.header"] {
            #expect(paths.contains(path), "\(path) missing from \(problems.map(\.description))")
        }
    }

    @Test func aCheckpointPositionRoundTripsAndAPlainOneIsAWatermark() {
        var position = PullPosition(since: "2026-01-01T00:00:00.000+08:00")
        position.page = 4
        position.max = "2026-01-02T00:00:00.000+08:00"
        let again = PullPosition(checkpoint: position.text)
        #expect(again == position)
        #expect(!again.isBetweenRuns)
        let rewound = PullPosition(checkpoint: "2025-06-01")
        #expect(rewound.since == "2025-06-01" && rewound.isBetweenRuns)
        #expect(PullPosition(checkpoint: nil) == PullPosition())
    }

    @Test func templatesEscapeTheirValues() {
        let url = PullTemplate.fill("http://d/p?s={checkpoint}&c={cursor}&{unknown}", ["checkpoint": "2026-01-01T00:00:00+08:00", "cursor": "a b&c"],
                                    escape: PullTemplate.urlEscape)
        #expect(url == "http://d/p?s=2026-01-01T00%3A00%3A00%2B08%3A00&c=a%20b%26c&{unknown}")
        #expect(PullTemplate.fill("<s>{checkpoint}</s>", ["checkpoint": "<x&y>"], escape: PullTemplate.xmlEscape) == "<s>&lt;x&amp;y&gt;</s>")
        #expect(PullTemplate.pageName(method: "GET", url: "https://dept/api/p?page=2") == "GET /api/p?page=2")
        #expect(checkpointValue("10", isAfter: "9"))
        #expect(checkpointValue("2026-01-02", isAfter: "2026-01-01"))
        #expect(HTTPFailureClassifier.retryAfterSeconds("120") == 120)
        #expect(HTTPFailureClassifier.retryAfterSeconds("soon") == nil)
    }
}

extension PullKindSettingsTests {
    static func options(_ auth: String) throws -> HTTPPullOptions {
        var reader = PullSettingsReader(try node("{ auth: \(auth), certificateAuthority: 'ca.pem' }"), file: "a.json5",
                                        known: HTTPPullOptions.settingKeys)
        let options = HTTPPullOptions.read(&reader)
        #expect(reader.problems.isEmpty, "\(reader.problems)")
        return options
    }

    static let context = PullContext(adapterID: "a", baseDirectory: "/etc/recordonce/adapters") { reference in
        guard case .environment(let name) = reference, name == "SECRET" else { throw PullFailure(.permanent, "unknown") }
        return "s3cret"
    }

    @Test func eachAuthenticationReachesTheRequest() throws {
        let bearer = try Self.options("{ bearer: { env: 'SECRET' } }").request(method: "GET", url: "https://d/x", context: Self.context)
        #expect(bearer.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer s3cret" })
        #expect(bearer.certificateAuthorityFile == "/etc/recordonce/adapters/ca.pem")

        let basic = try Self.options("{ basic: { user: 'ro', password: { env: 'SECRET' } } }").request(method: "GET", url: "https://d/x", context: Self.context)
        #expect(basic.basicAuthentication?.user == "ro" && basic.basicAuthentication?.password == "s3cret")

        let tls = try Self.options("{ clientCertificate: { certificate: 'certs/client.pem', key: '/keys/client.key' } }")
            .request(method: "GET", url: "https://d/x", context: Self.context)
        #expect(tls.clientCertificate?.certificateFile == "/etc/recordonce/adapters/certs/client.pem")
        #expect(tls.clientCertificate?.keyFile == "/keys/client.key")

        #expect(throws: PullFailure.self) {
            _ = try Self.options("{ bearer: { env: 'OTHER' } }").request(method: "GET", url: "https://d/x", context: Self.context)
        }
    }
}
