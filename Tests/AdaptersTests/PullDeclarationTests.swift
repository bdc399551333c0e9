import Foundation
import JSON5
import Testing
@testable import Adapters

/// A pull kind for parsing tests: accepts `url` (required, http or https) and nothing else.
struct ParseOnlyKind: PullKind {
    static let name = "test-http"
    static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var problems: [AdapterProblem] = []
        for member in settings.members ?? [] where !["kind", "every", "enabled", "backoff", "lease", "url", "password"].contains(member.key) {
            problems.append(AdapterProblem(file: file, position: member.keyPosition, path: "pull.\(member.key)", message: "unknown setting"))
        }
        if let url = settings["url"]?.stringValue {
            if !url.hasPrefix("http") { problems.append(AdapterProblem(file: file, position: settings["url"]!.position, path: "pull.url", message: "must be http(s)")) }
        } else {
            problems.append(AdapterProblem(file: file, position: settings.position, path: "pull.url", message: "missing URL"))
        }
        return problems
    }
    static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        throw PullFailure(.permanent, "not for running")
    }
}

@Suite struct PullDeclarationTests {
    static let kinds: [any PullKind.Type] = [ParseOnlyKind.self]

    @Test func aPullDeclarationParses() throws {
        let text = """
            { id: "police-hukou", department: "police", mapping: "police-hukou.json5",
              pull: { kind: "test-http", every: "5m", url: "https://register.example/api" } }
            """
        let adapter = try AdapterDeclarations.parse(Array(text.utf8), file: "p.json5", kinds: Self.kinds).get()
        let pull = try #require(adapter.pull)
        #expect(pull.kind == "test-http")
        #expect(pull.every == 300)
        #expect(pull.settings["url"]?.stringValue == "https://register.example/api")
        // Push-only declarations have no pull.
        let push = try AdapterDeclarations.parse(Array(#"{ id: "h", department: "health", mapping: "h.json5" }"#.utf8), file: "h", kinds: Self.kinds).get()
        #expect(push.pull == nil)
    }

    @Test func everyProblemOfAPullIsReportedWithItsLine() {
        let text = """
            {
              id: "police-hukou", department: "police", mapping: "police-hukou.json5",
              pull: {
                kind: "test-http",
                every: "sometimes",
                url: "ftp://x",
                colour: "blue",
              },
            }
            """
        guard case .failure(let error) = AdapterDeclarations.parse(Array(text.utf8), file: "bad.json5", kinds: Self.kinds) else {
            Issue.record("expected problems")
            return
        }
        let lines = Dictionary(grouping: error.problems, by: \.path).mapValues { $0.first!.position?.line }
        #expect(lines == ["pull.every": 5, "pull.url": 6, "pull.colour": 7])
    }

    @Test func unknownKindsAndMissingKeysAreReported() {
        for (text, paths) in [
            (#"{ id: "a", department: "health", mapping: "m", pull: { kind: "ftp", every: "1m" } }"#, ["pull.kind"]),
            (#"{ id: "a", department: "health", mapping: "m", pull: { every: "1m" } }"#, ["pull.kind"]),
            (#"{ id: "a", department: "health", mapping: "m", pull: { kind: "test-http", url: "http://x" } }"#, ["pull.every"]),
            (#"{ id: "a", department: "health", mapping: "m", pull: "http://x" }"#, ["pull"]),
            (#"{ id: "a", department: "health", mapping: "m", pull: { kind: "test-http", every: 0.1, url: "http://x" } }"#, ["pull.every"]),
            (#"{ id: "a", department: "health", mapping: "m", pull: { kind: "test-http", every: 60, url: "http://x", enabled: false, lease: 5 } }"#,
             ["pull.enabled", "pull.lease"]),
        ] {
            guard case .failure(let error) = AdapterDeclarations.parse(Array(text.utf8), file: "x", kinds: Self.kinds) else {
                Issue.record("expected a problem in \(text)")
                continue
            }
            #expect(error.problems.map(\.path) == paths, "\(text)")
        }
        // The default registry lists what the build has; an unknown kind names the known ones.
        guard case .failure(let error) = AdapterDeclarations.parse(Array(#"{ id: "a", department: "health", mapping: "m", pull: { kind: "nope", every: 60 } }"#.utf8), file: "x", kinds: Self.kinds) else {
            Issue.record("expected a problem")
            return
        }
        #expect(error.description.contains("known: test-http"))
    }

    @Test func schedulesReadTheirUnits() {
        #expect(PullSchedule.parse("30s") == 30)
        #expect(PullSchedule.parse("5m") == 300)
        #expect(PullSchedule.parse("1.5h") == 5400)
        #expect(PullSchedule.parse("1d") == 86400)
        #expect(PullSchedule.parse("90") == 90)
        for bad in ["", "m", "5 minutes", "-5m", "5x", "1e3"] { #expect(PullSchedule.parse(bad) == nil, "\(bad)") }
        let tooOften = JSONNode(position: SourcePosition(line: 1, column: 1), kind: .string("0.5s"))
        guard case .failure = PullSchedule.seconds(tooOften) else { Issue.record("0.5s accepted"); return }
        let tooRare = JSONNode(position: SourcePosition(line: 1, column: 1), kind: .number("9999999"))
        guard case .failure = PullSchedule.seconds(tooRare) else { Issue.record("months accepted"); return }
    }

    @Test func secretReferencesAnywhereInTheDeclarationMustResolve() throws {
        let folder = NSTemporaryDirectory() + "pull-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "pw\n".write(toFile: folder + "/present.secret", atomically: true, encoding: .utf8)
        let text = """
            { id: "police-hukou", department: "police", mapping: "m.json5",
              token: { env: "PUSH_TOKEN" },
              pull: { kind: "test-http", every: 60, url: "https://x",
                      password: { file: "absent.secret" } } }
            """
        let (declaration, problems) = AdapterValidation.check(Array(text.utf8), file: "d.json5", baseDirectory: folder,
                                                              environment: [:], kinds: Self.kinds)
        #expect(declaration == nil)
        #expect(problems.map(\.path) == ["token", "pull.password"])
        #expect(problems[0].position?.line == 2)
        #expect(problems[1].description.contains("absent.secret"))
        let good = text.replacingOccurrences(of: "absent", with: "present")
        let resolved = AdapterValidation.check(Array(good.utf8), file: "d.json5", baseDirectory: folder,
                                               environment: ["PUSH_TOKEN": "t0ken"], kinds: Self.kinds)
        #expect(resolved.problems.isEmpty)
        #expect(resolved.declaration?.pull?.kind == "test-http")
        #expect(try SecretReference.file("present.secret").resolveText(relativeTo: folder) == "pw")
    }

    @Test func theRegistryHasNoDuplicateNames() {
        let names = PullKinds.all.map { $0.name }
        #expect(Set(names).count == names.count)
    }
}
