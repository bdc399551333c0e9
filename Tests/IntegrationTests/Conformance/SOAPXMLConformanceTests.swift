import Adapters
import DemoDepartments
import HTTP
import Foundation
import Testing

/// soap-xml against the demo social insurance SOAP service.
@Suite struct SOAPXMLConformanceTests {
    static func settings(_ systems: DemoDepartmentSystems, pageSize: Int = 100) -> String {
        """
        { kind: 'soap-xml', url: '\(systems.socialSecurity.endpointURL)', action: 'queryPersonInsurance',
          envelope: '\(SocialSecurityService.requestTemplate)',
          namespaces: { si: '\(SocialSecurityService.namespace)' },
          records: '//si:AC01', checkpointField: 'si:AAE036', more: "//si:hasMore = 'true'",
          pageSize: \(pageSize), initialCheckpoint: '0', timeout: 5 }
        """
    }

    static func source(_ systems: DemoDepartmentSystems, pageSize: Int = 100) throws -> any PullSource {
        let node = try pullSettings(settings(systems, pageSize: pageSize))
        #expect(SOAPXMLKind.validate(node, file: "si.json5").isEmpty)
        return try SOAPXMLKind.makeSource(node, context: pullContext("social-security"))
    }

    @Test func aRestartFromTheCheckpointLosesAndDoublesNothing() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let rows = systems.population.socialSecurity.count
        #expect(rows > 300)
        let whole = try ConformanceStore(adapterID: "social-security", department: "social-security")
        let pages = try whole.run(try Self.source(systems))
        #expect(pages.count == (rows + 99) / 100)

        let interrupted = try ConformanceStore(adapterID: "social-security", department: "social-security")
        try interrupted.run(try Self.source(systems), maxPages: 2)
        #expect(try interrupted.checkpoint()?.hasPrefix("2025-12-31 00:00:00.") == true)
        try interrupted.run(try Self.source(systems))
        #expect(try interrupted.totals() == whole.totals())
        #expect(try interrupted.totals().landed == rows, "one landing row per AC01 row (the key is the person number)")
        #expect(try interrupted.changeLog() == whole.changeLog())

        // Nothing changed: the next run's first page is empty and nothing is stored.
        #expect(try interrupted.run(try Self.source(systems)).isEmpty)
        // The service suspends one contribution: only that row comes next.
        let key = try #require(systems.population.socialSecurity.keys.first)
        systems.population.socialSecurity.update(key) { record in
            if let i = record.fields.firstIndex(where: { $0.name == "AAC031" }) { record.fields[i].value = .text("2") }
        }
        let next = try interrupted.run(try Self.source(systems))
        #expect(next.count == 1)
        #expect(try interrupted.totals().events > whole.totals().events)
    }

    @Test func aSOAPFaultIsReportedWithItsFaultString() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let source = try Self.source(systems)
        systems.socialSecurity.faults.inject(.soapFault(code: "soap:Server", message: "数据库连接池耗尽 (connection pool exhausted)"))
        let server = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(server?.kind == .retriable)
        #expect(server?.message.contains("connection pool exhausted") == true, "\(server?.message ?? "")")
        #expect(server?.message.contains("soap:Server") == true)

        systems.socialSecurity.faults.inject(.soapFault(code: "soap:Client", message: "unknown operation"))
        let client = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(client?.kind == .permanent)
        #expect(client?.message.contains("unknown operation") == true)
    }

    @Test func xmlThatIsNotWellFormedFailsAndTheNextRunLosesNothing() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "social-security", department: "social-security")
        let source = try Self.source(systems)
        try store.run(source, maxPages: 1)
        let checkpoint = try store.checkpoint()
        systems.socialSecurity.faults.inject(.notWellFormed)
        let failure = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(failure?.kind == .retriable)
        #expect(failure?.message.contains("not well-formed XML") == true, "\(failure?.message ?? "")")
        #expect(failure?.message.contains("POST /ws/PersonInsurance") == true)
        #expect(try store.checkpoint() == checkpoint)

        systems.socialSecurity.faults.inject(.unavailable(retryAfter: nil))
        let outage = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(outage?.kind == .retriable && outage?.message.contains("HTTP 503") == true)

        try store.run(source)
        #expect(try store.totals().landed == systems.population.socialSecurity.count)
    }

    @Test func everySettingsProblemIsReportedAtOnce() throws {
        let node = try pullSettings("""
            { kind: 'soap-xml', url: 'ftp://x', envelope: '<a>{since}</b>', records: '//[', pageSize: 0, colour: 'red',
              auth: { basic: { user: 'u', password: 'in-clear' } } }
            """)
        let problems = SOAPXMLKind.validate(node, file: "si.json5")
        let paths = Set(problems.map(\.path))
        for path in ["pull.url", "pull.envelope", "pull.records", "pull.checkpointField", "pull.pageSize", "pull.colour", "pull.auth.basic.password"] {
            #expect(paths.contains(path), "\(path) in \(problems.map(\.description))")
        }
        #expect(!problems.contains { $0.description.contains("in-clear") })
    }
}

/// soap-xml with a field projection: records and fields located with XPath, sent on as JSON.
@Suite struct SOAPXMLFieldProjectionTests {
    @Test func fieldsAreLocatedWithXPathAndSentAsJSON() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        var text = SOAPXMLConformanceTests.settings(systems, pageSize: 5)
        text.removeLast()
        text += ", fields: { person: 'si:AAC001', id: 'si:AAC002', type: 'si:AAE140', credit: 'si:AAB998', missing: 'si:NOPE', stamp: 'si:AAE036' } }"
        let node = try pullSettings(text)
        #expect(SOAPXMLKind.validate(node, file: "si.json5").isEmpty)
        let page = try #require(try SOAPXMLKind.makeSource(node, context: pullContext("s")).nextPage(after: nil))
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(page.body)) as? [[String: Any]])
        #expect(rows.count == 5)
        let first = try #require(systems.population.socialSecurity.page(limit: 1).entries.first)
        #expect(rows[0]["person"] as? String == first.record["AAC001"])
        #expect(rows[0]["type"] as? String == first.record["AAE140"])
        #expect(rows[0]["missing"] is NSNull)
        #expect((rows[0]["stamp"] as? String)?.hasPrefix("2025-12-31 00:00:00.") == true)
        #expect(page.checkpoint == rows[4]["stamp"] as? String)

        let bad = try pullSettings(String(text.dropLast(4)) + ", other: '//[' } }")
        #expect(SOAPXMLKind.validate(bad, file: "si.json5").map(\.path) == ["pull.fields.other"])
    }
}

/// Answers the demo service does not give: an empty body, a fault without a string, HTML.
@Suite struct SOAPXMLOddAnswerTests {
    @Test func oddAnswersAreClassifiedNotCrashed() throws {
        let router = Router()
        let answers = OddAnswers()
        router.add(.POST, "/ws") { _ in answers.next() }
        let server = HTTPServer(port: 0, router: router, threads: 1, logger: .silent)
        try server.start()
        defer { server.stop() }
        let node = try pullSettings("""
            { kind: 'soap-xml', url: 'http://127.0.0.1:\(server.boundPort)/ws', envelope: '<q>{checkpoint}</q>',
              records: '//row', checkpointField: 'stamp', timeout: 5 }
            """)
        let source = try SOAPXMLKind.makeSource(node, context: pullContext("s"))
        let empty = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(empty?.kind == .retriable && empty?.message.contains("the answer is empty") == true, "\(empty?.message ?? "")")
        let fault = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(fault?.message.contains("SOAP fault") == true && fault?.message.contains("with no fault string") == true)
        let html = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(html?.kind == .permanent && html?.message.contains("HTTP 404") == true, "\(html?.message ?? "")")
        let noStamp = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(noStamp?.kind == .permanent && noStamp?.message.contains("checkpointField") == true)
        #expect(try source.nextPage(after: nil) == nil, "no rows: nothing to store")
    }
}

/// The next canned answer on each request.
final class OddAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Response] = [
        .bytes([], status: 200, contentType: "text/xml"),
        .text("<Envelope><Body><Fault><faultcode>Server</faultcode></Fault></Body></Envelope>", status: 500, contentType: "text/xml"),
        .text("<html><body>Not Found<br></body></html>", status: 404, contentType: "text/html"),
        .text("<r><row><other>1</other></row></r>", contentType: "text/xml"),
        .text("<r></r>", contentType: "text/xml"),
    ]
    func next() -> Response { lock.withLock { answers.isEmpty ? .text("<r/>") : answers.removeFirst() } }
}
