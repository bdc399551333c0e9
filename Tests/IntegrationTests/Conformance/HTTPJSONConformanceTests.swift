import Adapters
import DemoDepartments
import HTTP
import Foundation
import Testing

/// http-json against the demo police register (its REST API over the project's HTTP server).
@Suite struct HTTPJSONConformanceTests {
    static let token = "police-test-token"

    /// Settings for `style` (page, offset, cursor, next-link) against the running API.
    static func settings(_ systems: DemoDepartmentSystems, style: String, pageSize: Int = 70, keyField: Bool = true) throws -> String {
        let base = systems.police.personsURL
        let (url, pagination): (String, String)
        switch style {
        case "page": (url, pagination) = ("\(base)?updated_since={checkpoint}&page={page}&page_size={pageSize}", "{ style: 'page' }")
        case "offset": (url, pagination) = ("\(base)?updated_since={checkpoint}&offset={offset}&page_size={pageSize}", "{ style: 'offset' }")
        case "cursor": (url, pagination) = ("\(base)?updated_since={checkpoint}&cursor={cursor}&page_size={pageSize}", "{ style: 'cursor', cursorPath: 'data.next_cursor' }")
        default: (url, pagination) = ("\(base)?updated_since={checkpoint}&page_size={pageSize}", "{ style: 'next-link', nextPath: 'links.next' }")
        }
        return """
            { kind: 'http-json', every: '10s', url: '\(url)', records: 'data.items', checkpointField: 'GXSJ',
              \(keyField ? "keyField: 'GMSFHM'," : "") initialCheckpoint: '2000-01-01T00:00:00.000+08:00', pageSize: \(pageSize),
              pagination: \(pagination), auth: { bearer: { env: 'POLICE_TOKEN' } }, timeout: 5, connectTimeout: 2 }
            """
    }

    static func source(_ systems: DemoDepartmentSystems, style: String, pageSize: Int = 70, token: String = token) throws -> any PullSource {
        let text = try settings(systems, style: style, pageSize: pageSize)
        #expect(HTTPJSONKind.validate(try pullSettings(text), file: "police.json5").isEmpty)
        return try HTTPJSONKind.makeSource(try pullSettings(text), context: pullContext("police-hukou", secrets: ["POLICE_TOKEN": token]))
    }

    @Test(arguments: ["page", "offset", "cursor", "next-link"])
    func aRestartFromTheCheckpointLosesAndDoublesNothing(style: String) throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let whole = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let wholePages = try whole.run(try Self.source(systems, style: style))
        #expect(wholePages.count == 5, "300 rows in pages of 70: 4 full pages and a short one")

        let interrupted = try ConformanceStore(adapterID: "police-hukou", department: "police")
        try interrupted.run(try Self.source(systems, style: style), maxPages: 2)
        let midway = try #require(try interrupted.checkpoint())
        #expect(midway.contains("since"), "a mid-run checkpoint keeps the run's position: \(midway)")
        let rest = try interrupted.run(try Self.source(systems, style: style))   // a new process, from the saved checkpoint
        #expect(rest.count == 3)
        #expect(try interrupted.totals() == whole.totals())
        #expect(try interrupted.totals().keys == 300)
        #expect(try interrupted.changeLog() == whole.changeLog())
        #expect(try interrupted.checkpoint() == whole.checkpoint())

        // The next run asks only for what changed: the last row again (updated_since is inclusive), a no-op.
        let again = try interrupted.run(try Self.source(systems, style: style))
        #expect(again.count == 1)
        #expect(try interrupted.totals() == whole.totals())
    }

    @Test func changesAfterARunAreTheOnlyRecordsOfTheNextRun() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let source = try Self.source(systems, style: "cursor")
        try store.run(source)
        let before = try store.totals()
        for _ in 0..<5 { #expect(systems.changes.apply(.move) == .move) }
        let pages = try store.run(source)
        #expect(pages.count == 1)
        let after = try store.totals()
        #expect(after.keys == before.keys)
        #expect(after.landed >= before.landed + 5)
        #expect(after.events > before.events, "moves change registered addresses")
    }

    @Test func pagesAtTheEdges() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        // Pages of exactly 100: three full pages, then an empty one that carries the final checkpoint.
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let source = try Self.source(systems, style: "page", pageSize: 100)
        let pages = try store.run(source)
        #expect(pages.count == 4)
        #expect(pages.last.map { String(decoding: $0.body, as: UTF8.self).contains("\"items\":[]") } == true)
        #expect(try store.checkpoint()?.contains("page") == false, "the last page leaves only the watermark")
        #expect(try store.totals().keys == 300)

        // A checkpoint past every row: the first page is empty, nothing is stored, the checkpoint stays.
        let future = #"{"since":"2999-01-01T00:00:00.000+08:00"}"#
        let empty = try Self.source(systems, style: "page", pageSize: 100)
        #expect(try empty.nextPage(after: future) == nil)
    }

    @Test func aPageThatShiftsUnderPageNumbersIsReadAgainNextRun() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let source = try Self.source(systems, style: "page")
        // Before the second page is answered, three rows the first page returned change: they move
        // to the end and every later row moves up three places, past the page boundary.
        systems.police.faults.inject(.changeUnderCursor(3))
        try store.run(source)
        #expect(systems.police.faults.pending == 0)
        let afterFirst = try store.totals().keys
        #expect(afterFirst < 300, "three rows were skipped by the shift (got \(afterFirst))")
        let checkpoint = try #require(try store.checkpoint())
        #expect(checkpoint.contains("2000-01-01"), "the shift was noticed: the watermark stays where the run began")
        try store.run(source)
        #expect(try store.totals().keys == 300, "the next run reads the range again and finds them")
    }

    @Test func aCursorIsNotShiftedByChanges() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        systems.police.faults.inject(.changeUnderCursor(3))
        try store.run(try Self.source(systems, style: "cursor"))
        #expect(try store.totals().keys == 300)
    }

    @Test func anOutageIsRetriableAndTheRunRecovers() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let source = try Self.source(systems, style: "cursor")
        try store.run(source, maxPages: 1)
        let checkpoint = try store.checkpoint()

        systems.police.faults.inject(.unavailable(retryAfter: 7))
        let unavailable = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(unavailable?.kind == .retriable)
        #expect(unavailable?.retryAfter == 7)
        #expect(unavailable?.message.contains("HTTP 503") == true)

        systems.police.faults.inject(.tooManyRequests(retryAfter: 2))
        let busy = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(busy?.kind == .retriable && busy?.retryAfter == 2)

        systems.police.service.refuseConnections()
        let refused = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(refused?.kind == .retriable)
        #expect(refused?.message.contains("connection refused") == true, "\(refused?.message ?? "")")
        try systems.police.service.resume()

        #expect(try store.checkpoint() == checkpoint, "failures never move the checkpoint")
        try store.run(source)
        #expect(try store.totals().keys == 300)
    }

    @Test func refusedCredentialsArePermanent() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let wrong = try Self.source(systems, style: "cursor", token: "not-the-token")
        let failure = pullFailure { () throws(PullFailure) in try wrong.nextPage(after: nil) }
        #expect(failure?.kind == .permanent)
        #expect(failure?.message.contains("HTTP 401") == true)
        #expect(failure?.message.contains("not-the-token") == false, "never the secret")
        let unresolvable = try HTTPJSONKind.makeSource(try pullSettings(try Self.settings(systems, style: "cursor")), context: pullContext("police-hukou"))
        let missing = pullFailure { () throws(PullFailure) in try unresolvable.nextPage(after: nil) }
        #expect(missing?.kind == .permanent)
        #expect(missing?.message.contains("POLICE_TOKEN") == true)
    }

    @Test func truncatedJSONFailsNamingThePageAndLosesNoGoodRecord() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let store = try ConformanceStore(adapterID: "police-hukou", department: "police")
        let source = try Self.source(systems, style: "page")
        try store.run(source, maxPages: 2)
        let checkpoint = try store.checkpoint()
        systems.police.faults.inject(.truncatedBody)
        let failure = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(failure?.kind == .retriable)
        #expect(failure?.message.contains("GET /api/hukou/persons?") == true)
        #expect(failure?.message.contains("page=3") == true, "\(failure?.message ?? "")")
        #expect(failure?.message.contains("not valid JSON") == true)
        #expect(try store.checkpoint() == checkpoint)

        systems.police.faults.inject(.wrongEncoding)
        let encoding = pullFailure { () throws(PullFailure) in try source.nextPage(after: checkpoint) }
        #expect(encoding?.kind == .permanent)
        #expect(encoding?.message.contains("not UTF-8") == true, "\(encoding?.message ?? "")")
        #expect(try store.checkpoint() == checkpoint)

        try store.run(source)
        #expect(try store.totals().keys == 300)
    }
}

/// Answers the demo register does not give: empty, wrong shape, other statuses.
@Suite struct HTTPJSONOddAnswerTests {
    @Test func oddAnswersAreClassifiedNotCrashed() throws {
        let router = Router()
        let answers = CannedAnswers([
            .bytes([], status: 200, contentType: "application/json"),
            .jsonText(#"{"data":{}}"#),
            .jsonText(#"{"data":{"items":{"a":1}}}"#),
            .text("gone", status: 404),
            .text("maintenance", status: 502),
            .jsonText(#"{"data":{"items":[]}}"#),
        ])
        router.add(.GET, "/api") { _ in answers.next() }
        let server = HTTPServer(port: 0, router: router, threads: 1, logger: .silent)
        try server.start()
        defer { server.stop() }
        let source = try HTTPJSONKind.makeSource(try pullSettings("""
            { kind: 'http-json', url: 'http://127.0.0.1:\(server.boundPort)/api?since={checkpoint}', records: 'data.items', checkpointField: 'T', timeout: 5 }
            """), context: pullContext("p"))
        let expected: [(PullFailure.Kind, String)] = [(.retriable, "not valid JSON"), (.permanent, "no records at 'data.items'"),
                                                      (.permanent, "is not an array of records (it is object)"), (.permanent, "HTTP 404"), (.retriable, "HTTP 502")]
        for (kind, text) in expected {
            let failure = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
            #expect(failure?.kind == kind && failure?.message.contains(text) == true, "\(failure?.message ?? "") vs \(text)")
            #expect(failure?.message.contains("GET /api?since=") == true)
        }
        #expect(try source.nextPage(after: nil) == nil, "an empty first page stores nothing")
    }
}

/// The next canned answer on each request.
final class CannedAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Response]
    init(_ answers: [Response]) { self.answers = answers }
    func next() -> Response { lock.withLock { answers.isEmpty ? .text("none", status: 500) : answers.removeFirst() } }
}

extension HTTPJSONOddAnswerTests {
    @Test func aSlowDepartmentTimesOutAsRetriable() throws {
        let router = Router()
        router.add(.GET, "/slow") { _ in
            Thread.sleep(forTimeInterval: 1.5)
            return .jsonText("[]")
        }
        let server = HTTPServer(port: 0, router: router, threads: 1, logger: .silent)
        try server.start()
        defer { server.stop() }
        let source = try HTTPJSONKind.makeSource(try pullSettings("{ kind: 'http-json', url: 'http://127.0.0.1:\(server.boundPort)/slow', timeout: 0.3 }"),
                                                 context: pullContext("p"))
        let started = Date()
        let failure = pullFailure { () throws(PullFailure) in try source.nextPage(after: nil) }
        #expect(failure?.kind == .retriable)
        #expect(failure?.message.contains("timed out") == true, "\(failure?.message ?? "")")
        #expect(Date().timeIntervalSince(started) < 1.2)
    }
}
